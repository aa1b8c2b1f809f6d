/**
 * Reads one file, chunks it and saves its data blobs. Memory per file in flight is one read
 * buffer plus the chunker's window (≤ max chunk size), never the whole file.
 */
import type { FileHandle } from 'node:fs/promises';
import { interrupted, throwIfAborted, type BlobId } from '../../core/index.js';
import { BlobIdPipeline } from '../crypto/index.js';
import { openSourceFile, type FsEntry } from '../../sources/index.js';
import { Chunker, type ChunkerParams } from '../chunker/index.js';
import type { BlobWriter } from '../repository/index.js';

const READ_SIZE = 4 * 1024 * 1024;

/**
 * Chunkers are reused across files: each holds a max-chunk-size window and a gear table derived
 * from the key, too costly to set up per small file.
 */
export class ChunkerPool {
  private readonly free: Chunker[] = [];

  constructor(
    private readonly key: Buffer,
    private readonly params: ChunkerParams,
  ) {}

  async use<T>(fn: (chunker: Chunker) => Promise<T>): Promise<T> {
    const chunker = this.free.pop() ?? new Chunker(this.key, this.params);
    try {
      return await fn(chunker);
    } finally {
      chunker.reset();
      this.free.push(chunker);
    }
  }
}

export interface FileSaverContext {
  readonly writer: BlobWriter;
  readonly chunkers: ChunkerPool;
  readonly signal?: AbortSignal;
  readonly onBytes?: (n: number) => void;
}

export interface SavedFile {
  readonly content: BlobId[];
  readonly bytes: number;
  /** True when size or mtime differed after reading: the stored copy may mix versions. */
  readonly changedWhileReading: boolean;
}

export async function saveFile(
  path: Buffer,
  entry: FsEntry,
  ctx: FileSaverContext,
): Promise<SavedFile> {
  const handle = await openSourceFile(path);
  try {
    return await ctx.chunkers.use((chunker) => readAndSave(handle, entry, chunker, ctx));
  } finally {
    await handle.close();
  }
}

async function readAndSave(
  handle: FileHandle,
  entry: FsEntry,
  chunker: Chunker,
  ctx: FileSaverContext,
): Promise<SavedFile> {
  {
    const content: BlobId[] = [];
    const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, Math.max(Number(entry.size) + 1, 4096)));
    let bytes = 0;
    for (;;) {
      throwIfAborted(ctx.signal);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      bytes += bytesRead;
      ctx.onBytes?.(bytesRead);
      for (const chunk of chunker.push(buffer.subarray(0, bytesRead))) {
        content.push((await ctx.writer.save('data', chunk)).id);
      }
    }
    for (const chunk of chunker.finish()) content.push((await ctx.writer.save('data', chunk)).id);
    const after = await handle.stat({ bigint: true });
    const changedWhileReading =
      after.mtimeNs !== entry.mtimeNs ||
      Number(after.size) !== Number(entry.size) ||
      bytes !== Number(entry.size);
    return { content, bytes, changedWhileReading };
  }
}

export interface StreamSaverContext extends FileSaverContext {
  /** The repository's id key: the stream's blob ids are computed on a helper thread. */
  readonly idKey: Buffer;
}

/**
 * Saves a stream (stdin, a command's output, a database dump) as one file's content. An abort
 * ends it at once, even while the stream is silent: stdin or a command may never send another
 * byte. Each chunk's id is computed on a helper thread (BlobIdPipeline) while the chunk before it
 * is compressed and sealed here: a stream is read by the main thread alone.
 */
export async function saveStream(
  stream: AsyncIterable<Buffer>,
  ctx: StreamSaverContext,
): Promise<{ content: BlobId[]; bytes: number }> {
  return ctx.chunkers.use(async (chunker) => {
    const content: BlobId[] = [];
    const ids = new BlobIdPipeline(ctx.idKey);
    // Chunks whose id is started, oldest first; push() returns copies, so they stay unchanged.
    const waiting: Buffer[] = [];
    const saveOldest = async (): Promise<void> => {
      const chunk = waiting.shift()!;
      content.push((await ctx.writer.save('data', chunk, ids.next())).id);
    };
    const pipe = async (chunk: Buffer): Promise<void> => {
      ids.start('data', chunk);
      waiting.push(chunk);
      if (waiting.length > 1) await saveOldest();
    };
    let bytes = 0;
    try {
      for await (const data of untilAborted(stream, ctx.signal)) {
        throwIfAborted(ctx.signal);
        bytes += data.length;
        ctx.onBytes?.(data.length);
        for (const chunk of chunker.push(data)) await pipe(chunk);
      }
      for (const chunk of chunker.finish()) await pipe(chunk);
      while (waiting.length > 0) await saveOldest();
    } finally {
      ids.close();
    }
    return { content, bytes };
  });
}

/**
 * Iterates `source`, rejecting with INTERRUPTED as soon as `signal` aborts, mid-wait included.
 * Each wait listens to the signal only while it lasts. Not Promise.race against one promise
 * that rejects on abort: every race leaves a reaction on that promise for as long as it is
 * pending — the whole backup — and each reaction keeps its race's result, the data read, so a
 * 1 GiB stream held ≈ 1.2 GiB of memory at its end.
 */
async function* untilAborted<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  if (!signal) {
    yield* source;
    return;
  }
  throwIfAborted(signal);
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextUnlessAborted(iterator, signal);
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    // Stops the source (a Readable is destroyed); a pending read may settle later, unobserved.
    if (signal.aborted) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

function nextUnlessAborted<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(interrupted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void iterator
      .next()
      .finally(() => signal.removeEventListener('abort', onAbort))
      .then(resolve, reject);
  });
}
