/**
 * PackCheckPool: the worker threads that check whole packs for `check --read-data` (workerThreads),
 * so that hashing, opening and re-hashing every blob uses every core while the main thread only
 * fetches packs (or, from a local repository, names their files). Each worker takes at most
 * QUEUED packs at a time, which bounds the pack bytes held: QUEUED × workers packs handed over,
 * plus one pack-sized read buffer per worker.
 */
import type { Worker } from 'node:worker_threads';
import {
  HoldfastError,
  interrupted,
  startWorkerThread,
  stopWorkers,
  transferable,
  type PackId,
} from '../../../core/index.js';
import { IndexRecords, type BlobKeys } from '../../format/index.js';
import type { PackCheckOutcome } from '../pack-check.js';
import type { FromWorker, PackCheckSetup, PackTask, ToWorker } from './pack-check-job.js';

/** Packs given to one worker at once: one being checked, one waiting, so it never idles. */
export const QUEUED = 2;

/** A pack's outcome, or why its file could not be read. */
export type PackResult = { readonly outcome: PackCheckOutcome } | { readonly unreadable: string };

interface Pending {
  readonly resolve: (result: PackResult) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  exited: boolean;
}

export interface PackCheckPoolOptions {
  readonly keys: BlobKeys;
  /** Worker threads (at least 1). */
  readonly size: number;
  readonly signal?: AbortSignal;
}

export class PackCheckPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly setup: PackCheckSetup;
  private readonly onAbort = (): void => this.fail(interrupted(this.options.signal));
  private failure: Error | undefined;
  private nextTask = 1;
  private closed = false;

  constructor(private readonly options: PackCheckPoolOptions) {
    // Copies, so the structured clone sends 32 bytes and not the pool slab a key may sit in.
    this.setup = {
      masterKey: new Uint8Array(options.keys.masterKey),
      idKey: new Uint8Array(options.keys.idKey),
    };
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Packs the pool holds at once (what a caller's fetch concurrency should match). */
  get capacity(): number {
    return Math.max(1, this.options.size) * QUEUED;
  }

  /**
   * Checks pack `pack` against `lists` (what the index files list in it: copied to the worker
   * as they are encoded, one after another), given as its `bytes` (the caller's own: their
   * memory moves to the worker) or its `file`; waits for room in a worker first. Rejects only
   * with the pool's failure (a worker bug, an interruption).
   */
  async check(
    pack: PackId,
    lists: readonly IndexRecords[],
    source: { readonly file: string } | { readonly bytes: Uint8Array },
  ): Promise<PackResult> {
    let slot: Slot | undefined;
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      // After close a task would wait for a worker that has stopped.
      if (this.closed) throw new HoldfastError('FAILURE', 'the pack check workers have stopped');
      if ((slot = this.freeSlot()) !== undefined) break;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    const task = this.nextTask++;
    // A buffer of their own: a view would send the whole index file it lies in.
    const entries = IndexRecords.join(lists).bytes;
    const msg: PackTask =
      'file' in source
        ? { kind: 'pack', task, pack, entries, file: source.file }
        : { kind: 'pack', task, pack, entries, bytes: transferable(source.bytes) };
    const result = new Promise<PackResult>((resolve, reject) =>
      slot.pending.set(task, { resolve, reject }),
    );
    slot.worker.postMessage(msg satisfies ToWorker, msg.bytes ? [msg.bytes] : []);
    return result;
  }

  /** Stops the workers. Call once, at the end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const running = this.slots.filter((s) => !s.exited).map((s) => s.worker);
    await stopWorkers(running, { kind: 'stop' } satisfies ToWorker);
  }

  /** A worker with room (started when all are full and fewer than `size` run), or none. */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots)
      if (s.pending.size < QUEUED && (!best || s.pending.size < best.pending.size)) best = s;
    if ((best === undefined || best.pending.size > 0) && this.slots.length < this.options.size)
      return this.startWorker();
    return best;
  }

  private startWorker(): Slot {
    // Beside this file in dist/: the compiled worker entry.
    const worker = startWorkerThread(
      new URL('./pack-check-worker.js', import.meta.url),
      this.setup,
    );
    const slot: Slot = { worker, pending: new Map(), exited: false };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      slot.exited = true;
      if (!this.closed)
        this.fail(new HoldfastError('FAILURE', `a pack check worker exited (code ${code})`));
    });
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.kind === 'failure') {
      const cause = Object.assign(new Error(msg.message), { stack: msg.stack });
      this.fail(new HoldfastError('FAILURE', `pack check worker: ${msg.message}`, { cause }));
      return;
    }
    const pending = slot.pending.get(msg.task);
    if (pending === undefined) return;
    slot.pending.delete(msg.task);
    pending.resolve(
      msg.kind === 'checked' ? { outcome: msg.outcome } : { unreadable: msg.message },
    );
    this.waiting.shift()?.();
  }

  /** The first failure wins: every pending check rejects with it, every waiter wakes. */
  private fail(err: Error): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = err;
    for (const slot of this.slots) {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    }
    for (const wake of this.waiting.splice(0)) wake();
  }
}
