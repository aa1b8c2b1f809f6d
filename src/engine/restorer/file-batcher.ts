/**
 * FileBatcher: restores the content of regular files in batches, planned by pack. A batch
 * collects up to MAX_FILES files (or MAX_BLOBS blob positions) and belongs to one restore worker
 * (workers/): its run groups every blob the files need by pack, reads each pack in few ranged
 * reads (pack-reader.ts) and sends each range to the worker, which verifies every blob once
 * however many files or positions use it, writes it to every position, and finishes each file
 * (size, metadata, close) after its last write.
 *
 * A large file (≥ SPLIT_FROM bytes) is written by every worker at once: the main thread creates
 * it, splits its blobs into one run of consecutive offsets per worker, each run a batch of its
 * own, and after the last part sets its size and metadata by path. One worker writing it alone
 * was the whole of a 1 GiB restore's time after start-up, with the other core idle.
 *
 * A range that cannot be read, or a blob in it that does not verify, is loaded again through
 * Repository.loadBlob, which tries the other locations the index files give and warns once per
 * pack: a damaged pack costs a slower path, never a wrong byte.
 *
 * Bounds: at most BATCHES_PER_WORKER batches per worker run while the next one fills, so at most
 * maxInFlight × MAX_FILES files are open at once; at most RANGE_READS ranged reads (each
 * ≤ pack-reader MAX_RANGE, or one larger blob) are in flight or waiting for room in a worker,
 * and PACK_READERS blobs are loaded from other locations at once; range bytes posted to a worker
 * stay within its window (WORKER_WINDOW). So content memory stays below
 * (RANGE_READS + workers × 4) × MAX_RANGE, plus one larger blob per read and one blob being
 * written per worker: 128 MiB with 2 workers. From network storage, the ranges of packs a batch
 * needs much of come out of whole packs (PackCache): spooled to disk, the workers read them from
 * there as from local packs; kept in memory, they read them in place, and its slabs (5 of 18 MiB
 * with 16 MiB packs) hold those ranges' bytes instead. From local packs the workers read ranges
 * themselves, into a buffer each.
 */
import { open, truncate } from 'node:fs/promises';
import {
  isHoldfastError,
  Semaphore,
  throwIfAborted,
  type BlobId,
  type PackId,
} from '../../core/index.js';
import { applyMetadata } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';
import { blobOffsets, splitRuns, type BlobPart } from './file-content.js';
import { metadataOf, workerMetaOf } from './node-metadata.js';
import { PackCache, type PackLease } from './pack-cache.js';
import {
  coalesce,
  LOCAL_GAP,
  LOCAL_RANGE,
  packedStarts,
  segmentsOf,
  type PackRange,
  type WantedBlob,
} from './pack-reader.js';
import {
  CREATE_FLAGS,
  type BatchFile,
  type RangeBlob,
  type Targets,
} from './workers/restore-job.js';
import { RestoreWorkerPool, type RestoreBatch } from './workers/restore-worker-pool.js';
import { reviveError } from './workers/serialized-error.js';

export const MAX_FILES = 256;
export const MAX_BLOBS = 4096;
/** Batches running per worker: one being written while the next one's packs are read. */
export const BATCHES_PER_WORKER = 2;
/** Packs one batch reads at once (in offset order within each pack). */
export const PACK_READERS = 4;
/** Ranged reads in flight or waiting for a worker's room, across all batches. */
export const RANGE_READS = 8;
/** Files of at least this many bytes are written by all workers at once, a part each. */
export const SPLIT_FROM = 32 * 1024 * 1024;

/**
 * A file whose content is written and whose descriptor is closed. Metadata has been applied
 * unless the batcher was told to leave it (`restore --verify` applies it after verifying).
 * With `error` some content is missing, a write failed, or metadata could not be applied.
 */
export interface WrittenFile {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  readonly error?: Error;
}

/** Called once per file; see WrittenFile. A promise, if any, is awaited before the end. */
export type FileDone = (file: WrittenFile) => Promise<void> | undefined;

export interface FileBatcherOptions {
  readonly repo: Repository;
  readonly done: FileDone;
  /** Apply each file's metadata in the worker, right after its content (false for --verify). */
  readonly applyMetadata: boolean;
  /** Restore numeric owners (root only). */
  readonly owner: boolean;
  /** Restore workers (default: the repository's `workerThreads`). */
  readonly workers?: number;
  /** Where whole packs from network storage are spooled (PackCacheOptions.spoolDirs). */
  readonly spoolDirs?: readonly string[];
  /** Told about what the restore works around (a spool it cannot write). */
  readonly onWarning?: (message: string) => void;
  readonly signal?: AbortSignal;
}

interface QueuedFile {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  readonly parts: readonly BlobPart[];
  /** Set when these are one part's blobs of a file split among the workers. */
  readonly split?: SplitFile;
}

/** A file written in parts by several batches, finished here after the last one. */
interface SplitFile {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  /** Parts without an outcome yet. */
  remaining: number;
  /** The first part's error. */
  error?: Error;
}

interface PlannedBlob {
  readonly blob: WantedBlob;
  /** Pairs of (file index in the batch, offset). */
  readonly targets: number[];
}

export class FileBatcher {
  private files: QueuedFile[] = [];
  private blobCount = 0;
  /** Batches running; one that failed stays, so the next wait rethrows its failure. */
  private readonly running = new Set<Promise<void>>();
  private admission: Promise<void> = Promise.resolve();
  private readonly workers: number;
  private pool: RestoreWorkerPool | undefined;
  /** Blobs loaded from their other locations at once (damaged or unreadable packs). */
  private readonly fallbacks = new Semaphore(PACK_READERS);
  private readonly reads = new Semaphore(RANGE_READS);
  /** Whole packs kept for the ranges of later batches (network storage; see PackCache). */
  private readonly packCache: PackCache;

  constructor(private readonly options: FileBatcherOptions) {
    this.workers = Math.max(1, options.workers ?? options.repo.workerThreads);
    this.packCache = new PackCache(options.repo.store, options.repo.config.pack_size, {
      ...(options.signal && { signal: options.signal }),
      ...(options.spoolDirs && { spoolDirs: options.spoolDirs }),
      ...(options.onWarning && { onWarning: options.onWarning }),
    });
  }

  /** Files open at once stay below this (MAX_FILES per running batch). */
  get maxInFlight(): number {
    return this.workers * BATCHES_PER_WORKER;
  }

  /**
   * Queues a file. Returns a promise when the walk must wait for it (a full batch starting,
   * perhaps after an earlier one finishes: back-pressure on the tree walk), else undefined.
   * Throws INTEGRITY before creating anything when a blob of the file is not in the index.
   */
  add(path: Buffer, node: Node): Promise<void> | undefined {
    const parts = blobOffsets(this.options.repo, node.content ?? [], path);
    const size = parts.reduce((n, p) => n + p.loc.rawLength, 0);
    if (this.workers > 1 && size >= SPLIT_FROM && parts.length >= this.workers)
      return this.addSplit(path, node, size, parts);
    this.files.push({ path, node, size, parts });
    this.blobCount += parts.length;
    if (this.files.length >= MAX_FILES || this.blobCount >= MAX_BLOBS) return this.flush();
    return undefined;
  }

  /** Runs what is queued and waits for every batch; rejects with the first batch failure. */
  async finish(): Promise<void> {
    await this.flush();
    while (this.running.size > 0) await Promise.race(this.running);
  }

  /**
   * Stops the workers, then removes spooled packs; call once, after the last finish (or after a
   * failure).
   */
  async close(): Promise<void> {
    try {
      await this.pool?.close();
    } finally {
      await this.packCache.close();
    }
  }

  /**
   * Queues a large file as one batch per part (see the module comment), after a batch of the
   * files queued before it. The file is created here, once: each part's worker opens it without
   * creating or truncating it, so no part undoes another's writes.
   */
  private async addSplit(
    path: Buffer,
    node: Node,
    size: number,
    parts: readonly BlobPart[],
  ): Promise<void> {
    await this.flush();
    try {
      await (await open(path, CREATE_FLAGS, 0o600)).close();
    } catch (err) {
      await this.options.done({ path, node, size, error: err as Error });
      return;
    }
    const runs = splitRuns(parts, this.workers);
    const split: SplitFile = { path, node, size, remaining: runs.length };
    for (const run of runs) {
      this.files.push({ path, node, size, parts: run, split });
      this.blobCount += run.length;
      await this.flush();
    }
  }

  /** One part of a split file has its outcome; the last one finishes the file. */
  private partDone(split: SplitFile, error: Error | undefined): Promise<void> | undefined {
    if (error !== undefined) split.error ??= error;
    if (--split.remaining > 0) return undefined;
    return this.finishSplit(split);
  }

  /** What a worker does after a file's last write, by path: size, then metadata. */
  private async finishSplit(split: SplitFile): Promise<void> {
    const { path, node, size } = split;
    let error = split.error;
    if (error === undefined) {
      try {
        if (node.sparse === true) await truncate(path, size);
        if (this.options.applyMetadata)
          await applyMetadata(path, metadataOf(node), { owner: this.options.owner });
      } catch (err) {
        error = err as Error;
      }
    }
    await this.options.done({ path, node, size, ...(error && { error }) });
  }

  private async flush(): Promise<void> {
    if (this.files.length === 0) return;
    const files = this.files;
    this.files = [];
    this.blobCount = 0;
    // Flushes from concurrent adds take turns, so maxInFlight holds.
    const previous = this.admission;
    let admitted = (): void => undefined;
    this.admission = new Promise((resolve) => (admitted = resolve));
    try {
      await previous;
      // Whichever batch ends first makes room: a batch of large files must not hold up the
      // walk while the other workers run dry.
      while (this.running.size >= this.maxInFlight) await Promise.race(this.running);
      throwIfAborted(this.options.signal);
      const run: Promise<void> = this.run(files).then(() => void this.running.delete(run));
      run.catch(() => undefined); // awaited later, in flush or finish
      this.running.add(run);
    } finally {
      admitted();
    }
  }

  private async run(files: QueuedFile[]): Promise<void> {
    const { repo, signal } = this.options;
    const byPack = new Map<PackId, Map<BlobId, PlannedBlob>>();
    files.forEach((file, index) => {
      for (const p of file.parts) {
        const loc = p.loc;
        let blobs = byPack.get(loc.packId);
        if (!blobs) byPack.set(loc.packId, (blobs = new Map<BlobId, PlannedBlob>()));
        let entry = blobs.get(p.id);
        if (!entry) blobs.set(p.id, (entry = { blob: { id: p.id, loc }, targets: [] }));
        entry.targets.push(index, p.offset);
      }
    });
    const finished: Promise<void>[] = [];
    const retries: Promise<void>[] = [];
    const batch = this.workerPool().start(files.map(this.batchFile), {
      onFile: (outcome) => {
        const { path, node, size, split } = files[outcome.file]!;
        const error = outcome.error && reviveError(outcome.error);
        const finishing = split
          ? this.partDone(split, error)
          : this.options.done({ path, node, size, ...(error && { error }) });
        if (finishing !== undefined) track(finished, finishing);
      },
      onRetry: (id, targets) => track(retries, this.loadElsewhere(batch, id as BlobId, targets)),
    });
    const packs = [...byPack];
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < packs.length) {
        const [packId, blobs] = packs[next++]!;
        const wanted = [...blobs.values()].map((e) => e.blob);
        const local = repo.store.files !== undefined;
        const requests = local ? [] : coalesce(wanted);
        // Decided per pack, not per range: this batch's short ranges of a pack it needs much of
        // come out of the same whole pack as its long ones.
        const whole =
          !local &&
          this.packCache.wants(
            packId,
            requests.reduce((n, r) => n + r.length, 0),
          );
        // Network requests are worth joining up to MAX_RANGE; ranges read from a file here or
        // taken out of a whole pack are kept short, for the workers' read buffers.
        const ranges = local || whole ? coalesce(wanted, LOCAL_RANGE) : requests;
        // A pack taken whole is held until all of this batch's ranges of it are handed over:
        // leased again range by range, it could leave the cache between two of them (other
        // batches' packs taking its place) and be fetched again. Ranges out of a slab need no
        // read permit (their bytes are the slab's, which the cache bounds), so a reader never
        // waits for a permit while its lease keeps a slab that the permits' holders may wait
        // for; nor do ranges of a spooled copy (the worker reads them); ranges copied out of a
        // pack kept in memory of its own still take one.
        const held = whole ? await this.packCache.lease(packId).catch(() => undefined) : undefined;
        if (held !== undefined) {
          try {
            for (const range of ranges) {
              throwIfAborted(signal);
              const send = (): Promise<void> =>
                this.sendRange(batch, packId, range, whole, blobs, retries, held);
              const inPlace = held.memory !== undefined || held.file !== undefined;
              await (inPlace ? send() : this.reads.run(send));
            }
          } finally {
            held.release();
          }
          continue;
        }
        for (const range of ranges) {
          throwIfAborted(signal);
          // The permit covers the read and the wait for room in the worker: the bytes of at
          // most RANGE_READS ranges are held on this side, whatever the number of batches.
          await this.reads.run(() => this.sendRange(batch, packId, range, whole, blobs, retries));
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PACK_READERS, packs.length) }, reader));
      await batch.done;
      await Promise.all(retries);
    } finally {
      await Promise.allSettled(finished);
    }
    await Promise.all(finished);
  }

  /**
   * Reads one range and sends it to the batch's worker; when it cannot be read, each of its
   * blobs is loaded from its other locations instead (tracked in `retries`). From a store whose
   * packs are local files, the worker reads the range itself: no read, buffer or transfer here.
   */
  private async sendRange(
    batch: RestoreBatch,
    packId: PackId,
    range: PackRange,
    /** Take the range out of the whole pack (PackCache), decided for all of the batch's ranges. */
    whole: boolean,
    blobs: ReadonlyMap<BlobId, PlannedBlob>,
    retries: Promise<void>[],
    /** The whole pack, when the batch holds it (see run). */
    held?: PackLease,
  ): Promise<void> {
    const { repo, signal } = this.options;
    const blobsOf = (starts?: number[]): RangeBlob[] =>
      range.blobs.map((b, i) => ({
        id: b.id,
        start: starts?.[i] ?? b.loc.offset - range.offset,
        length: b.loc.length,
        compression: b.loc.compression,
        rawLength: b.loc.rawLength,
        targets: blobs.get(b.id)!.targets,
      }));
    const files = repo.store.files;
    if (files !== undefined) {
      await this.sendRead(batch, packId, range, files.path('pack', packId), blobsOf);
      return;
    }
    let bytes: Buffer | undefined;
    let starts: number[] | undefined;
    let lease: PackLease | undefined;
    try {
      if (whole || this.packCache.wants(packId, range.length)) {
        lease = held?.share() ?? (await this.packCache.lease(packId));
        // A spooled copy needs nothing here: the worker reads the range from its file (below).
        if (lease.memory !== undefined)
          PackCache.checkSpan(packId, lease.bytes!, range.offset, [[0, range.length]]);
        else if (lease.file === undefined) {
          // A pack kept in memory of its own: only the parts holding blobs are copied out.
          const segments = segmentsOf(range, LOCAL_GAP);
          bytes = PackCache.copySegments(packId, lease.bytes!, range.offset, segments);
          starts = packedStarts(range, segments);
          lease.release();
          lease = undefined;
        }
      } else {
        bytes = await repo.store.get(
          'pack',
          packId,
          { offset: range.offset, length: range.length },
          signal ? { signal } : {},
        );
      }
    } catch (err) {
      lease?.release();
      if (isHoldfastError(err, 'INTERRUPTED')) throw err;
      for (const b of range.blobs)
        track(retries, this.loadElsewhere(batch, b.id, blobs.get(b.id)!.targets));
      return;
    }
    if (lease?.file !== undefined) {
      await this.sendRead(batch, packId, range, lease.file, blobsOf, lease.release);
      return;
    }
    if (lease !== undefined) {
      // Blobs read in place from the shared pack: their starts are offsets in the pack.
      const inPack = range.blobs.map((b) => b.loc.offset);
      const shared = {
        pack: packId,
        memory: lease.memory!,
        length: lease.length,
        blobs: blobsOf(inPack),
      };
      await batch.sendShared(shared, lease.release);
      return;
    }
    await batch.sendRange(packId, bytes!, blobsOf(starts));
  }

  /**
   * Has the batch's worker read `range` from `file` (the pack's own, or a spooled copy whose
   * lease `release` ends), only the parts of it that hold blobs.
   */
  private sendRead(
    batch: RestoreBatch,
    packId: PackId,
    range: PackRange,
    file: string,
    blobsOf: (starts?: number[]) => RangeBlob[],
    release?: () => void,
  ): Promise<void> {
    const segments = segmentsOf(range, LOCAL_GAP);
    const starts = packedStarts(range, segments);
    const read = { pack: packId, file, offset: range.offset, segments, blobs: blobsOf(starts) };
    return batch.sendRead(read, release);
  }

  private readonly batchFile = (f: QueuedFile): BatchFile => ({
    path: f.path.toString('latin1'),
    size: f.size,
    sparse: f.node.sparse === true,
    parts: f.parts.length,
    ...(f.split
      ? { part: true as const }
      : this.options.applyMetadata && { meta: workerMetaOf(f.node) }),
  });

  /**
   * A blob whose range could not be read or did not verify: its other locations, or the error.
   * At most PACK_READERS at once, so a missing pack does not start a read per blob in it.
   */
  private async loadElsewhere(batch: RestoreBatch, id: BlobId, targets: Targets): Promise<void> {
    const { repo, signal } = this.options;
    await this.fallbacks.run(async () => {
      try {
        batch.resolve(id, targets, { data: await repo.reloadBlob('data', id, signal) });
      } catch (err) {
        if (isHoldfastError(err, 'INTERRUPTED')) throw err;
        batch.resolve(id, targets, { error: err });
      }
    });
  }

  private workerPool(): RestoreWorkerPool {
    return (this.pool ??= new RestoreWorkerPool({
      keys: this.options.repo.blobKeys(),
      owner: this.options.owner,
      size: this.workers,
      ...(this.options.signal && { signal: this.options.signal }),
    }));
  }
}

/** Keeps `p` to await later; until then its rejection must not count as unhandled. */
function track(list: Promise<void>[], p: Promise<void>): void {
  p.catch(() => undefined);
  list.push(p);
}
