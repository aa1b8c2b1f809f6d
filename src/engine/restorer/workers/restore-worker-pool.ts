/**
 * RestoreWorkerPool: the worker threads that verify and write a restore's file contents, so that
 * both cores work on a restore: the main thread walks trees, creates directories, plans batches
 * and reads pack ranges; each worker owns whole batches (see restore-job.ts, BatchWriter).
 *
 * Bounds: range bytes posted to a worker and not yet consumed stay within WORKER_WINDOW (a
 * larger range is admitted alone), so a slow disk holds back the pack reads instead of filling
 * memory. Ranges a worker reads itself (a local repository) count against the same window, which
 * then bounds the work queued, not memory. A batch stays with the worker that started it: the one with the least work queued
 * (bytes to write, plus a fixed cost per file: creating a small file costs about as much as
 * writing FILE_COST bytes), so a batch of a few large files does not leave the other worker idle.
 */
import type { Worker } from 'node:worker_threads';
import {
  HoldfastError,
  interrupted,
  startWorkerThread,
  stopWorkers,
  transferable,
} from '../../../core/index.js';
import type { BlobKeys } from '../../format/index.js';
import {
  type BatchFile,
  type FileOutcome,
  type FromWorker,
  type RangeBlob,
  type RangeRead,
  type RestoreWorkerSetup,
  type SharedDelivery,
  type Targets,
  type ToWorker,
  type WorkerReport,
  readBytes,
  sharedBytes,
} from './restore-job.js';
import { serializeError } from './serialized-error.js';

export const WORKER_WINDOW = 32 * 1024 * 1024;
/** Work of one file beyond its bytes (create, metadata, close), in bytes' worth. */
const FILE_COST = 64 * 1024;

export interface RestoreWorkerPoolOptions {
  readonly keys: BlobKeys;
  /** Restore numeric owners (root only). */
  readonly owner: boolean;
  /** Worker threads, started as batches arrive (at least 1). */
  readonly size: number;
  readonly signal?: AbortSignal;
}

/** What the restorer hears about one batch. */
export interface BatchListener {
  /** A file is finished (closed), or failed. */
  onFile(outcome: FileOutcome): void;
  /** A blob did not verify in its range: resolve it (RestoreBatch.resolve) from elsewhere. */
  onRetry(id: string, targets: Targets): void;
}

interface Slot {
  readonly worker: Worker;
  /** Range bytes posted and not yet consumed. */
  posted: number;
  /** Estimated work of its open batches (see FILE_COST); 0 when it has none. */
  load: number;
  readonly waiting: (() => void)[];
  exited: boolean;
}

interface OpenBatch {
  readonly slot: Slot;
  readonly load: number;
  readonly listener: BatchListener;
  readonly settle: { resolve: () => void; reject: (err: Error) => void };
}

export class RestoreWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly batches = new Map<number, OpenBatch>();
  private readonly setup: RestoreWorkerSetup;
  private readonly onAbort = (): void => this.fail(interrupted(this.options.signal));
  private nextBatch = 1;
  /** Shared deliveries and spooled reads posted and not yet handled: what ends each one's lease. */
  private readonly leases = new Map<number, () => void>();
  private nextLease = 1;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly options: RestoreWorkerPoolOptions) {
    // Copies, so the structured clone sends 32 bytes and not the pool slab a key may sit in.
    this.setup = {
      masterKey: new Uint8Array(options.keys.masterKey),
      idKey: new Uint8Array(options.keys.idKey),
      owner: options.owner,
    };
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * Starts a batch on the least busy worker. `done` settles once every file has its outcome, or
   * rejects with the pool's failure (a worker bug, an interruption).
   */
  start(files: readonly BatchFile[], listener: BatchListener): RestoreBatch {
    if (this.failure) throw this.failure;
    const slot = this.pickSlot();
    const id = this.nextBatch++;
    const load = files.reduce((n, f) => n + f.size + FILE_COST, 0);
    let settle!: OpenBatch['settle'];
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined); // the caller awaits it; a failure must not be unhandled before
    this.batches.set(id, { slot, load, listener, settle });
    slot.load += load;
    this.post(slot, { kind: 'batch', batch: id, files });
    return new RestoreBatch(this, slot, id, done);
  }

  /** Stops the workers (they close any descriptor still open). Call once, at the end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const running = this.slots.filter((s) => !s.exited).map((s) => s.worker);
    await stopWorkers(running, { kind: 'stop' } satisfies ToWorker);
    this.endLeases();
  }

  /** @internal Waits until `bytes` fit the worker's window, then posts the range. */
  async sendRange(
    slot: Slot,
    batch: number,
    pack: string,
    bytes: Uint8Array,
    blobs: readonly RangeBlob[],
  ): Promise<void> {
    await this.room(slot, bytes.length);
    const owned = transferable(bytes);
    slot.posted += bytes.length;
    this.post(slot, { kind: 'range', batch, pack, bytes: owned, blobs }, [owned]);
  }

  /**
   * @internal Waits until the blobs fit the worker's window, then posts them as a view of
   * `memory`; `release` runs once the worker has handled them, or the pool failed or closed (and
   * at once if this rejects).
   */
  async sendShared(
    slot: Slot,
    batch: number,
    shared: SharedPart,
    release: () => void,
  ): Promise<void> {
    const bytes = sharedBytes(shared);
    try {
      await this.room(slot, bytes);
    } catch (err) {
      release();
      throw err;
    }
    const lease = this.nextLease++;
    this.leases.set(lease, release);
    slot.posted += bytes;
    this.post(slot, { kind: 'shared', batch, lease, ...shared });
  }

  /**
   * @internal Waits until `length` fits the worker's window, then posts the read. `release`, for
   * a spooled copy of a pack, runs as sendShared's does.
   */
  async sendRead(
    slot: Slot,
    read: Omit<RangeRead, 'kind' | 'lease'>,
    release?: () => void,
  ): Promise<void> {
    const bytes = readBytes(read);
    try {
      await this.room(slot, bytes);
    } catch (err) {
      release?.();
      throw err;
    }
    slot.posted += bytes;
    if (release === undefined) {
      this.post(slot, { kind: 'read', ...read });
      return;
    }
    const lease = this.nextLease++;
    this.leases.set(lease, release);
    this.post(slot, { kind: 'read', ...read, lease });
  }

  /** @internal */
  sendResolution(slot: Slot, batch: number, id: string, targets: Targets, r: Resolution): void {
    if (this.failure) return;
    const base = { kind: 'resolution', batch, id, targets } as const;
    if ('data' in r) {
      const owned = new Uint8Array(r.data);
      this.post(slot, { ...base, data: owned }, [owned.buffer]);
    } else this.post(slot, { ...base, error: serializeError(r.error) });
  }

  /** Resolves once `length` more bytes fit the worker's window (a larger range waits alone). */
  private async room(slot: Slot, length: number): Promise<void> {
    while (slot.posted > 0 && slot.posted + length > WORKER_WINDOW && !this.failure)
      await new Promise<void>((resolve) => slot.waiting.push(resolve));
    if (this.failure) throw this.failure;
  }

  private post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(msg, transfer);
  }

  private pickSlot(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.load < best.load) best = s;
    if ((!best || best.load > 0) && this.slots.length < Math.max(1, this.options.size))
      return this.startWorker();
    return best!;
  }

  private startWorker(): Slot {
    // Beside this file in dist/: the compiled worker entry.
    const worker = startWorkerThread(new URL('./restore-worker.js', import.meta.url), this.setup);
    const slot: Slot = { worker, posted: 0, load: 0, waiting: [], exited: false };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      slot.exited = true;
      if (!this.closed)
        this.fail(new HoldfastError('FAILURE', `a restore worker exited (code ${code})`));
    });
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.kind === 'failure') {
      const cause = Object.assign(new Error(msg.message), { stack: msg.stack });
      this.fail(new HoldfastError('FAILURE', `restore worker: ${msg.message}`, { cause }));
      return;
    }
    this.onReport(slot, msg);
  }

  private onReport(slot: Slot, report: WorkerReport): void {
    if (report.lease !== undefined) this.endLease(report.lease);
    if (report.consumed > 0) {
      slot.posted -= report.consumed;
      for (const wake of slot.waiting.splice(0)) wake();
    }
    const batch = this.batches.get(report.batch);
    if (batch === undefined || this.failure) return;
    for (const r of report.retry) batch.listener.onRetry(r.id, r.targets);
    for (const outcome of report.files) batch.listener.onFile(outcome);
    if (report.done) {
      this.batches.delete(report.batch);
      slot.load -= batch.load;
      batch.settle.resolve();
    }
  }

  private endLease(lease: number): void {
    const release = this.leases.get(lease);
    this.leases.delete(lease);
    release?.();
  }

  /**
   * Ends every lease: after a failure or close no report will. A worker still reading one then
   * reads whatever the memory holds next, which no blob verifies against, and nothing of it is
   * kept.
   */
  private endLeases(): void {
    for (const lease of [...this.leases.keys()]) this.endLease(lease);
  }

  /** The first failure wins: every open batch rejects with it, the workers stop. */
  private fail(err: Error): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = err;
    this.endLeases();
    for (const b of this.batches.values()) b.settle.reject(err);
    this.batches.clear();
    for (const slot of this.slots) for (const wake of slot.waiting.splice(0)) wake();
  }
}

/** What a SharedDelivery carries besides its batch and lease. */
export type SharedPart = Omit<SharedDelivery, 'kind' | 'batch' | 'lease'>;

/** A blob found elsewhere (verified plaintext), or why it could not be. */
export type Resolution = { readonly data: Uint8Array } | { readonly error: unknown };

/** One batch on its worker: send it ranges and resolutions, await `done`. */
export class RestoreBatch {
  constructor(
    private readonly pool: RestoreWorkerPool,
    private readonly slot: Slot,
    private readonly id: number,
    readonly done: Promise<void>,
  ) {}

  /**
   * Posts one pack range, after waiting for room in the worker's window. `bytes` must be the
   * caller's own (as ObjectStore.get returns them): their memory moves to the worker.
   */
  sendRange(pack: string, bytes: Uint8Array, blobs: readonly RangeBlob[]): Promise<void> {
    return this.pool.sendRange(this.slot, this.id, pack, bytes, blobs);
  }

  /**
   * Posts blobs of a pack held in shared memory, after waiting for room in the worker's window;
   * `release` runs once the worker no longer reads them (see RestoreWorkerPool.sendShared).
   */
  sendShared(shared: SharedPart, release: () => void): Promise<void> {
    return this.pool.sendShared(this.slot, this.id, shared, release);
  }

  /**
   * Posts one range for the worker to read from the pack's file itself (a local repository, or
   * a spooled copy), after waiting for room in the worker's window. `release`, for a spooled
   * copy, runs once the worker no longer reads the file (as sendShared's).
   */
  sendRead(read: Omit<RangeRead, 'kind' | 'batch' | 'lease'>, release?: () => void): Promise<void> {
    return this.pool.sendRead(this.slot, { batch: this.id, ...read }, release);
  }

  resolve(id: string, targets: Targets, resolution: Resolution): void {
    this.pool.sendResolution(this.slot, this.id, id, targets, resolution);
  }
}
