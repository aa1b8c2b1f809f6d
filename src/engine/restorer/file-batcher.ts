/**
 * FileBatcher: restores the content of regular files in batches, planned by pack. A batch
 * collects up to MAX_FILES files (or MAX_BLOBS blob positions); its run groups every blob the
 * files need by pack, reads each pack in few ranged reads (pack-reader.ts), decrypts and verifies
 * each blob once however many files or positions use it, and writes it to every position with
 * positional writes. A file is created at its first write and closed after its last one.
 *
 * Bounds: at most MAX_IN_FLIGHT batches run while the next one fills, so at most
 * MAX_IN_FLIGHT × MAX_FILES files are open at once; at most PACK_READERS packs are read at once,
 * each holding one ranged read (≤ pack-reader MAX_RANGE, or one larger blob); decoded blobs
 * waiting for their writes are bounded by WRITE_BYTES (one larger blob is admitted alone). So
 * content memory stays below PACK_READERS × MAX_RANGE + WRITE_BYTES plus one blob per reader.
 */
import { HoldfastError, type BlobId, type PackId } from '../../core/index.js';
import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';
import { closeFd, createFile, truncateFd } from './fd-io.js';
import { blobOffsets, writeBlob } from './file-writer.js';
import { readPackBlobs, type BlobResult, type WantedBlob } from './pack-reader.js';
import { WriteBudget } from './write-budget.js';

export const MAX_FILES = 256;
export const MAX_BLOBS = 4096;
export const MAX_IN_FLIGHT = 2;
export const PACK_READERS = 4;
/** Decoded blobs waiting for their writes: at most this many bytes and deliveries. */
export const WRITE_BYTES = 32 * 1024 * 1024;
export const WRITE_DELIVERIES = 64;

/**
 * A file whose content is written: `fd` is its still open descriptor, which the receiver must
 * close (so metadata can be applied through it first). With `error` (some content is missing or
 * a write failed) the descriptor is already closed and `fd` is undefined.
 */
export interface WrittenFile {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  readonly fd?: number;
  readonly error?: unknown;
}

/** Called once per file; see WrittenFile. */
export type FileDone = (file: WrittenFile) => Promise<void>;

interface BatchFile {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  remaining: number;
  fd?: Promise<number>;
  error?: unknown;
}

interface Target {
  readonly file: BatchFile;
  readonly offset: number;
}

/** A blob the batch needs, once, with every position it is written to. */
interface PlannedBlob {
  readonly blob: WantedBlob;
  readonly targets: Target[];
}

export class FileBatcher {
  private files: BatchFile[] = [];
  private blobCount = 0;
  private readonly running: Promise<void>[] = [];
  private readonly budget = new WriteBudget(WRITE_BYTES, WRITE_DELIVERIES);
  private admission: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: Repository,
    private readonly done: FileDone,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Queues a file; may wait for an earlier batch to finish (back-pressure on the tree walk).
   * Throws INTEGRITY before creating anything when a blob of the file is not in the index.
   */
  async add(path: Buffer, node: Node): Promise<void> {
    const what = path.toString();
    const parts = blobOffsets(this.repo, node.content ?? [], what);
    const size = parts.reduce((n, p) => n + p.length, 0);
    this.files.push({ path, node, size, remaining: parts.length });
    this.blobCount += parts.length;
    if (this.files.length >= MAX_FILES || this.blobCount >= MAX_BLOBS) await this.flush();
  }

  /** Runs what is queued and waits for every batch; rejects with the first batch failure. */
  async finish(): Promise<void> {
    await this.flush();
    while (this.running.length > 0) await this.running.shift();
  }

  private async flush(): Promise<void> {
    if (this.files.length === 0) return;
    const files = this.files;
    this.files = [];
    this.blobCount = 0;
    // Flushes from concurrent adds take turns, so MAX_IN_FLIGHT holds.
    const previous = this.admission;
    let admitted = (): void => undefined;
    this.admission = new Promise((resolve) => (admitted = resolve));
    try {
      await previous;
      while (this.running.length >= MAX_IN_FLIGHT) await this.running.shift();
      const run = this.run(files);
      run.catch(() => undefined); // awaited later, in flush or finish
      this.running.push(run);
    } finally {
      admitted();
    }
  }

  private async run(files: BatchFile[]): Promise<void> {
    const byPack = new Map<PackId, Map<BlobId, PlannedBlob>>();
    const empty: BatchFile[] = [];
    for (const file of files) {
      if (file.remaining === 0) {
        empty.push(file);
        continue;
      }
      for (const p of blobOffsets(this.repo, file.node.content ?? [], file.path.toString())) {
        const loc = this.repo.locate(p.id)!;
        let blobs = byPack.get(loc.packId);
        if (!blobs) byPack.set(loc.packId, (blobs = new Map<BlobId, PlannedBlob>()));
        let entry = blobs.get(p.id);
        if (!entry) blobs.set(p.id, (entry = { blob: { id: p.id, loc }, targets: [] }));
        entry.targets.push({ file, offset: p.offset });
      }
    }
    const writes: Promise<void>[] = [];
    try {
      await Promise.all(empty.map((f) => this.complete(f)));
      const packs = [...byPack];
      let next = 0;
      const reader = async (): Promise<void> => {
        while (next < packs.length) {
          const [packId, blobs] = packs[next++]!;
          await readPackBlobs(
            this.repo,
            packId,
            [...blobs.values()].map((e) => e.blob),
            async (blob, result) => {
              // Reading goes on while this blob is written; the budget bounds what waits.
              const n = 'data' in result ? result.data.length : 0;
              await this.budget.acquire(n);
              const write = this.deliver(blobs.get(blob.id)!.targets, result);
              const tracked = write.finally(() => this.budget.release(n));
              tracked.catch(() => undefined); // awaited below, after the readers
              writes.push(tracked);
            },
            this.signal,
          );
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(PACK_READERS, packs.length) }, reader));
      } finally {
        await Promise.allSettled(writes);
      }
      await Promise.all(writes);
    } finally {
      // After an interruption, descriptors of unfinished files must not leak.
      for (const f of files) if (f.remaining > 0 && f.fd) await closeQuietly(f.fd);
    }
  }

  private async deliver(targets: readonly Target[], result: BlobResult): Promise<void> {
    await Promise.all(
      targets.map(async ({ file, offset }) => {
        if ('data' in result) {
          try {
            if (!file.fd) file.fd = createFile(file.path);
            await writeBlob(await file.fd, result.data, offset, file.node.sparse === true);
          } catch (err) {
            file.error ??= err;
          }
        } else {
          file.error ??= withPath(file.path, result.error);
        }
        if (--file.remaining === 0) await this.complete(file);
      }),
    );
  }

  /** Sets a sparse file's size and hands the file on (creating it when nothing was written). */
  private async complete(file: BatchFile): Promise<void> {
    let error = file.error;
    let fd: number | undefined;
    try {
      // A file whose every blob failed is still created, as a partial restore leaves it.
      file.fd ??= createFile(file.path);
      fd = await file.fd;
      if (file.node.sparse === true && error === undefined) await truncateFd(fd, file.size);
    } catch (err) {
      error ??= err;
    }
    const { path, node, size } = file;
    if (error === undefined && fd !== undefined) return this.done({ path, node, size, fd });
    if (fd !== undefined) await closeQuietly(Promise.resolve(fd));
    await this.done({ path, node, size, error });
  }
}

function withPath(path: Buffer, err: unknown): unknown {
  if (!(err instanceof HoldfastError)) return err;
  return new HoldfastError(err.code, `${path.toString()}: ${err.message}`, {
    cause: err,
    ...(err.hint !== undefined && { hint: err.hint }),
  });
}

async function closeQuietly(fd: Promise<number>): Promise<void> {
  try {
    await closeFd(await fd);
  } catch {
    // Already failing; the first error is what gets reported.
  }
}
