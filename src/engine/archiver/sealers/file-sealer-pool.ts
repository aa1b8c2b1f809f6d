/**
 * FileSealerPool: reads, chunks, hashes, compresses and seals file contents on native file
 * sealers (NativeFileSealer: a thread each, plus a helper for a large file's blob ids), so that
 * a backup uses every core without a worker thread. The main thread keeps what must be
 * single-threaded: the walk, dedup (BlobWriter's index and pending set decide; sealers may seal
 * duplicates, which are dropped), packs, uploads and trees.
 *
 * `seal` queues a batch of a stream's chunks instead (named by the main thread: stream-saver.ts),
 * compressed and sealed like a file's and reported as one.
 *
 * Flow: `save` queues a file; when a sealer has room (at most JOBS_PER_SEALER jobs each, so it
 * never idles waiting for the next job) the queue is cut into a job (FileQueue). Reports from
 * one sealer are handled strictly in order, blobs before the outcomes of their files.
 *
 * Memory bound (defaults, per sealer): CREDIT_WINDOW (16 MiB) of posted, unconsumed sealed
 * bytes + the slab being filled (4 MiB, or one sealed chunk if larger) + the window files are
 * read into (a 1 MiB read and the max chunk size, 9 MiB) + zstd's output twice (the sealer's
 * and its helper's, which compresses every other chunk of a large file: ≈ 2 × max chunk size,
 * 16 MiB) ≈ 45 MiB, touched only as far as the largest chunks reach; plus on the main
 * thread the queue of at most MAX_FILES_QUEUED entries (≈ 0.5 KB each, plus a changed file's
 * parent ids: ≈ 65 B per blob of it). A slab is reused once the writer has copied its blobs to
 * the pack spool (SpooledPacker), or, where packs are held in memory, once their packs are
 * stored (then the open packs and uploads in flight, ≈ 2 × pack size each, are in slabs:
 * SlabTable). With 2 sealers that is ≈ 90 + 1 MiB, whatever the size of the files or the speed
 * of the storage.
 */
import { HoldfastError, interrupted, type BlobId } from '../../../core/index.js';
import type { FsEntry } from '../../../sources/index.js';
import type { ChunkerParams } from '../../chunker/index.js';
import type { BlobWriter } from '../../repository/index.js';
import type { SavedFile } from '../file-saver.js';
import { FileQueue } from './file-queue.js';
import { NativeFileSealer, type FileSealerSetup } from './native-file-sealer.js';
import {
  systemError,
  type FileTask,
  type JobReport,
  type SealerMessage,
  type SealTask,
} from './sealer-codec.js';
import { SlabTable } from './slab-table.js';

const CREDIT_WINDOW = 16 * 1024 * 1024;
const SLAB_BYTES = 4 * 1024 * 1024;
const JOBS_PER_SEALER = 2;
/** Whole jobs waiting that start another sealer even before the others have reported. */
const CLEAR_BACKLOG_JOBS = 4;
/** Files queued or being read before the walk waits: enough to fill every sealer's batches. */
const MAX_FILES_QUEUED = 2048;

export interface FileSealerPoolOptions {
  readonly writer: BlobWriter;
  readonly idKey: Buffer;
  readonly chunkerKey: Buffer;
  readonly chunkerParams: ChunkerParams;
  /** Sealers at most, started as a backlog builds (at least 1; see freeSlot). */
  readonly size: number;
  readonly signal?: AbortSignal;
  readonly onBytes?: (n: number) => void;
}

interface PendingFile {
  readonly task: FileTask | SealTask;
  readonly size: number;
  readonly onStarted: (() => void) | undefined;
  readonly resolve: (saved: SavedFile) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly sealer: NativeFileSealer;
  readonly slabs: SlabTable;
  readonly jobs: Map<number, PendingFile[]>;
  /** Reports of this sealer, handled one after another. */
  chain: Promise<void>;
  /** Whether the sealer has reported yet: until then it is starting, not falling behind. */
  reported: boolean;
}

export class FileSealerPool {
  private readonly queue = new FileQueue<PendingFile>();
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly setup: FileSealerSetup;
  private readonly onAbort = (): void => this.fail(interrupted(this.options.signal));
  private inFlight = 0;
  private nextJob = 1;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly options: FileSealerPoolOptions) {
    const { masterKey, compression } = options.writer.sealingSetup();
    this.setup = {
      masterKey,
      idKey: options.idKey,
      chunkerKey: options.chunkerKey,
      chunkerParams: options.chunkerParams,
      compression,
      creditWindow: CREDIT_WINDOW,
      slabBytes: SLAB_BYTES,
    };
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Whether `save` may be called now without waiting for `ready` (and no failure is known). */
  hasRoom(): boolean {
    return this.inFlight < MAX_FILES_QUEUED && this.failure === undefined;
  }

  /** Resolves when the pool takes more files: bounds how far the walk runs ahead of reading. */
  async ready(): Promise<void> {
    while (this.inFlight >= MAX_FILES_QUEUED && this.failure === undefined)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failure) throw this.failure;
  }

  /**
   * Saves one file's content. Rejects with a system error (with `code`, as fs would) when the
   * file cannot be read, or with the pool's failure (a sealer's failure, a storage error, an abort).
   */
  save(
    path: Buffer,
    entry: FsEntry,
    onStarted?: () => void,
    stored?: readonly BlobId[],
  ): Promise<SavedFile> {
    const task: FileTask = {
      path,
      size: entry.size,
      mtimeNs: entry.mtimeNs,
      ...(stored && stored.length > 0 && { stored }),
    };
    return this.enqueue(task, entry.size, onStarted);
  }

  /**
   * Compresses and seals chunks named by the caller (a stream's, see stream-saver.ts) and gives
   * them to the writer; resolves once it has them all. A sealer reads the chunks in place: the
   * caller leaves them unchanged until then.
   */
  seal(chunks: readonly { readonly id: BlobId; readonly data: Buffer }[]): Promise<SavedFile> {
    const size = chunks.reduce((n, c) => n + c.data.length, 0);
    return this.enqueue({ chunks }, size, undefined);
  }

  /** Queues a task for the next job a sealer has room for; settles with its outcome. */
  private enqueue(
    task: FileTask | SealTask,
    size: number,
    onStarted: (() => void) | undefined,
  ): Promise<SavedFile> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<SavedFile>((resolve, reject) => {
      this.queue.push({ task, size, onStarted, resolve, reject });
      this.inFlight++;
      this.dispatch();
    });
  }

  /**
   * Stops the sealers. Call once, after the last file settled or after a failure: a sealer's
   * threads and buffers are not the garbage collector's to see.
   */
  close(): Promise<void> {
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    for (const slot of this.slots) {
      slot.sealer.close();
      slot.slabs.close();
    }
    return Promise.resolve();
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.failure === undefined) {
      const slot = this.freeSlot();
      if (slot === undefined) return;
      const id = this.nextJob++;
      const files = this.queue.takeJob();
      slot.jobs.set(id, files);
      for (const f of files) f.onStarted?.();
      slot.sealer.job(
        id,
        files.map((f) => f.task),
      );
    }
  }

  /**
   * The least busy sealer with room. Another starts (while size allows) only when the files
   * come faster than the sealers read them: every sealer has its JOBS_PER_SEALER jobs and a
   * whole job more waits (FileQueue.holdsJobs), once every sealer has reported — the walk
   * queues files in bursts, whatever their pace — or at once when CLEAR_BACKLOG_JOBS jobs wait
   * (an initial backup: the walk outruns any sealer). An incremental backup's changed files
   * come in bursts one sealer keeps up with, and each sealer holds its own read buffer, zstd
   * state and slabs (docs/benchmarks-history.md, part X).
   */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.jobs.size < best.jobs.size) best = s;
    const behind =
      best === undefined ||
      (best.jobs.size >= JOBS_PER_SEALER &&
        (this.queue.holdsJobs(CLEAR_BACKLOG_JOBS) ||
          (this.queue.holdsJobs(1) && this.slots.every((s) => s.reported))));
    if (behind && this.slots.length < Math.max(1, this.options.size)) return this.startSealer();
    return best && best.jobs.size < JOBS_PER_SEALER ? best : undefined;
  }

  private startSealer(): Slot {
    // Reports arrive on a later turn of the event loop, once `slot` is set.
    const sealer = new NativeFileSealer(this.setup, (msg) => this.onMessage(slot, msg));
    const slot: Slot = {
      sealer,
      slabs: new SlabTable((id) => sealer.free(id)),
      jobs: new Map(),
      chain: Promise.resolve(),
      reported: false,
    };
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: SealerMessage): void {
    if (this.closed) return;
    if (msg.kind === 'failure') {
      this.fail(new HoldfastError('FAILURE', msg.message));
      return;
    }
    if (!slot.reported) {
      slot.reported = true;
      this.dispatch(); // the sealers may be behind now, and another may start
    }
    slot.chain = slot.chain
      .then(() => this.handleReport(slot, msg))
      .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
  }

  private async handleReport(slot: Slot, report: JobReport): Promise<void> {
    if (this.failure || this.closed) return;
    const files = slot.jobs.get(report.job);
    if (files === undefined) throw new Error(`report for unknown job ${report.job}`);
    const { slabs } = slot;
    for (const slab of report.slabs) slabs.add(slab);
    for (const b of report.blobs) {
      // Held before the offer: the writer releases what it keeps once the pack is stored.
      const sealed = slabs.hold(b.slab, b.offset, b.length);
      const { rawLength, compressed } = b;
      const blob = { id: b.id, sealed, rawLength, compressed, owner: slabs };
      const { added } = await this.options.writer.saveSealed('data', blob);
      if (!added) slabs.drop(b.slab);
    }
    for (const id of report.retired) slabs.retire(id);
    if (this.failure) return;
    // The blobs are in the writer now (packs, or uploads it waited for): the sealer may go on.
    slot.sealer.give(report.credit);
    if (report.bytesRead > 0) this.options.onBytes?.(report.bytesRead);
    for (const outcome of report.files) {
      const file = files[outcome.file]!;
      this.inFlight--;
      if (outcome.error) {
        const { errno, syscall } = outcome.error;
        const path = 'path' in file.task ? file.task.path : Buffer.from('(stream)');
        file.reject(systemError(errno, syscall, path));
      } else {
        file.resolve({
          content: outcome.content,
          bytes: outcome.bytes,
          changedWhileReading: outcome.changedWhileReading,
        });
      }
    }
    if (report.done) slot.jobs.delete(report.job);
    this.wakeWalk();
    this.dispatch();
  }

  private wakeWalk(): void {
    while (this.waiting.length > 0 && (this.inFlight < MAX_FILES_QUEUED || this.failure))
      this.waiting.shift()!();
  }

  /** The first failure wins: every queued or running file rejects with it, sealers stop. */
  private fail(err: Error): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = err;
    for (const f of this.queue.drain()) f.reject(err);
    for (const slot of this.slots) {
      for (const files of slot.jobs.values()) for (const f of files) f.reject(err);
      slot.jobs.clear();
      slot.sealer.close();
    }
    this.wakeWalk();
  }
}
