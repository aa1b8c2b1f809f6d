/**
 * Reads one file, chunks it and saves its data blobs. Memory per file in flight is one read
 * buffer plus the chunker's window (≤ max chunk size), never the whole file.
 */
import type { FileHandle } from 'node:fs/promises';
import { throwIfAborted, type BlobId } from '../../core/index.js';
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
