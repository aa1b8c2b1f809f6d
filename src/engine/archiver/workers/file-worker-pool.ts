/**
 * FileWorkerPool: reads, chunks, hashes, compresses and seals file contents on worker threads so
 * that a backup uses every core. The main thread keeps what must be single-threaded: the walk,
 * dedup (BlobWriter's index and pending set decide; workers may seal duplicates, which are
 * dropped), packs, uploads and trees.
 *
 * `seal` queues a batch of a stream's chunks instead (named by the main thread, in shared
 * memory: stream-saver.ts), compressed and sealed like a file's and reported as one.
 *
 * Flow: `save` queues a file; when a worker has room (at most JOBS_PER_WORKER jobs each, so it
 * never idles waiting for the next message) the queue is cut into a job (FileQueue). Reports
 * from one worker are handled strictly in order, blobs before the outcomes of their files.
 *
 * Memory bound (defaults, per worker): CREDIT_WINDOW (16 MiB) of posted, unconsumed sealed bytes
 * + the slab being filled (4 MiB, or one sealed chunk if larger) + a 4 MiB read buffer + chunker
 * window and zstd scratch (≈ 2 × max chunk size, 16 MiB) ≈ 40 MiB; plus on the main thread the
 * open packs and the uploads in flight (BlobWriter: ≈ 2 × pack size each; their blobs stay in
 * the workers' slabs, which are reused once those packs are stored: SlabTable), and the queue of
 * at most MAX_FILES_QUEUED entries (≈ 0.5 KB each, plus a changed file's parent ids: ≈ 65 B
 * per blob of it). With 2 workers that is ≈ 80 + 64 + 1 MiB, whatever the size of the files or
 * the speed of the storage.
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import { HoldfastError, interrupted, startWorkerThread, type BlobId } from '../../../core/index.js';
import type { FsEntry } from '../../../sources/index.js';
import type { ChunkerParams } from '../../chunker/index.js';
import type { BlobWriter } from '../../repository/index.js';
import type { SavedFile } from '../file-saver.js';
import { CreditGate } from './credit-gate.js';
import type {
  FileJob,
  FileTask,
  FileWorkerSetup,
  JobReport,
  SealTask,
  WorkerMessage,
} from './file-job.js';
import { FileQueue } from './file-queue.js';
import { SlabTable } from './slab-table.js';

const CREDIT_WINDOW = 16 * 1024 * 1024;
const SLAB_BYTES = 4 * 1024 * 1024;
const JOBS_PER_WORKER = 2;
/** Whole jobs waiting that start another worker even before the others have reported. */
const CLEAR_BACKLOG_JOBS = 4;
/** Files queued or being read before the walk waits: enough to fill every worker's batches. */
const MAX_FILES_QUEUED = 2048;

export interface FileWorkerPoolOptions {
  readonly writer: BlobWriter;
  readonly idKey: Buffer;
  readonly chunkerKey: Buffer;
  readonly chunkerParams: ChunkerParams;
  /** Worker threads at most, started as a backlog builds (at least 1; see freeSlot). */
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
  readonly worker: Worker;
  readonly gate: CreditGate;
  readonly slabs: SlabTable;
  readonly jobs: Map<number, PendingFile[]>;
  /** Reports of this worker, handled one after another. */
  chain: Promise<void>;
  /** Whether the worker has reported yet: until then it is starting, not falling behind. */
  reported: boolean;
}

export class FileWorkerPool {
  private readonly queue = new FileQueue<PendingFile>();
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly setup: Omit<FileWorkerSetup, 'credit' | 'freed'>;
  private readonly onAbort = (): void => this.fail(interrupted(this.options.signal));
  private inFlight = 0;
  private nextJob = 1;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly options: FileWorkerPoolOptions) {
    const { masterKey, compression } = options.writer.sealingSetup();
    // Copies, so the structured clone sends 32 bytes and not the pool slab a key may sit in.
    this.setup = {
      masterKey: new Uint8Array(masterKey),
      idKey: new Uint8Array(options.idKey),
      chunkerKey: new Uint8Array(options.chunkerKey),
      chunkerParams: { ...options.chunkerParams },
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
   * file cannot be read, or with the pool's failure (a worker bug, a storage error, an abort).
   */
  save(
    path: Buffer,
    entry: FsEntry,
    onStarted?: () => void,
    stored?: readonly BlobId[],
  ): Promise<SavedFile> {
    const task: FileTask = {
      path: path.toString('latin1'),
      size: entry.size,
      mtimeNs: entry.mtimeNs,
      ...(stored && stored.length > 0 && { stored }),
    };
    return this.enqueue(task, entry.size, onStarted);
  }

  /**
   * Compresses and seals chunks named by the caller (a stream's, see stream-saver.ts) and gives
   * them to the writer; resolves once it has them all. The chunks are views of shared memory,
   * which a worker reads in place: the caller leaves them unchanged until then.
   */
  seal(chunks: readonly { readonly id: BlobId; readonly data: Buffer }[]): Promise<SavedFile> {
    if (chunks.some((c) => !(c.data.buffer instanceof SharedArrayBuffer)))
      throw new TypeError('FileWorkerPool.seal: chunks must be views of a SharedArrayBuffer');
    const size = chunks.reduce((n, c) => n + c.data.length, 0);
    return this.enqueue({ chunks }, size, undefined);
  }

  /** Queues a task for the next job a worker has room for; settles with its outcome. */
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

  /** Stops the workers. Call once, after the last file settled or after a failure. */
  async close(): Promise<void> {
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    for (const slot of this.slots) slot.gate.close();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const slot of this.slots) slot.slabs.close();
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.failure === undefined) {
      const slot = this.freeSlot();
      if (slot === undefined) return;
      const id = this.nextJob++;
      const files = this.queue.takeJob();
      slot.jobs.set(id, files);
      for (const f of files) f.onStarted?.();
      const job: FileJob = { job: id, files: files.map((f) => f.task) };
      slot.worker.postMessage(job);
    }
  }

  /**
   * The least busy worker with room. Another starts (while size allows) only when the files
   * come faster than the workers read them: every worker has its JOBS_PER_WORKER jobs and a
   * whole job more waits (FileQueue.holdsJobs), once every worker has reported — one takes tens
   * of milliseconds to start, during which the walk queues files whatever their pace — or at
   * once when CLEAR_BACKLOG_JOBS jobs wait (an initial backup: the walk outruns any worker).
   * Starting one as soon as a file waited for a busy worker started every worker on an
   * incremental backup, whose changed files come in bursts one worker keeps up with (a worker
   * is ≈ 10 MiB at the peak: docs/benchmarks-history.md, part X).
   */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.jobs.size < best.jobs.size) best = s;
    const behind =
      best === undefined ||
      (best.jobs.size >= JOBS_PER_WORKER &&
        (this.queue.holdsJobs(CLEAR_BACKLOG_JOBS) ||
          (this.queue.holdsJobs(1) && this.slots.every((s) => s.reported))));
    if (behind && this.slots.length < Math.max(1, this.options.size)) return this.startWorker();
    return best && best.jobs.size < JOBS_PER_WORKER ? best : undefined;
  }

  private startWorker(): Slot {
    const gate = CreditGate.create(CREDIT_WINDOW);
    const { port1, port2 } = new MessageChannel();
    const workerData: FileWorkerSetup = { ...this.setup, credit: gate.shared, freed: port2 };
    // Beside this file in dist/: the compiled worker entry.
    const entry = new URL('./file-worker.js', import.meta.url);
    const worker = startWorkerThread(entry, workerData, [port2]);
    const slabs = new SlabTable(port1);
    const slot: Slot = {
      worker,
      gate,
      slabs,
      jobs: new Map(),
      chain: Promise.resolve(),
      reported: false,
    };
    worker.on('message', (msg: WorkerMessage) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closed)
        this.fail(new HoldfastError('FAILURE', `a file worker exited (code ${code})`));
    });
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    if (msg.kind === 'failure') {
      const cause = Object.assign(new Error(msg.message), { stack: msg.stack });
      this.fail(new HoldfastError('FAILURE', `file worker: ${msg.message}`, { cause }));
      return;
    }
    if (!slot.reported) {
      slot.reported = true;
      this.dispatch(); // the workers may be behind now, and another may start
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
      const blob = { id: b.id as BlobId, sealed, rawLength, compressed, owner: slabs };
      const { added } = await this.options.writer.saveSealed('data', blob);
      if (!added) slabs.drop(b.slab);
    }
    for (const id of report.retired) slabs.retire(id);
    if (this.failure) return;
    // The blobs are in the writer now (packs, or uploads it waited for): the worker may go on.
    slot.gate.give(report.credit);
    if (report.bytesRead > 0) this.options.onBytes?.(report.bytesRead);
    for (const outcome of report.files) {
      const file = files[outcome.file]!;
      this.inFlight--;
      if (outcome.error) {
        file.reject(Object.assign(new Error(outcome.error.message), { code: outcome.error.code }));
      } else {
        const content = outcome.content as BlobId[];
        file.resolve({
          content,
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

  /** The first failure wins: every queued or running file rejects with it, workers stop. */
  private fail(err: Error): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = err;
    for (const f of this.queue.drain()) f.reject(err);
    for (const slot of this.slots) {
      for (const files of slot.jobs.values()) for (const f of files) f.reject(err);
      slot.jobs.clear();
      slot.gate.close();
    }
    this.wakeWalk();
    for (const slot of this.slots) void slot.worker.terminate();
  }
}
