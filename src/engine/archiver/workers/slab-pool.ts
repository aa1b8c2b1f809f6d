/**
 * SlabPool: the worker's side of the memory blobs are sealed into. A slab is a SharedArrayBuffer
 * (slabBytes, or one sealed chunk if larger) that the worker fills blob after blob, across jobs,
 * and that the main thread reads the reported blobs from in place: nothing is copied or
 * transferred. When the next blob does not fit, the worker retires the slab; once the main
 * thread holds none of its blobs any more (their packs are stored, see SlabTable), it sends the
 * slab's id back on the `freed` port and the worker seals into it again.
 *
 * Why: a buffer handed to the main thread and dropped there is freed only when V8 collects the
 * views onto it — promoted while their pack filled, so at the next full collection — and every
 * new one is fresh memory, a page fault per 4 KiB on this kind of host. Shared slabs also spare
 * the copy that used to end each job of small files (a slab outlives the job).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

export interface Slab {
  readonly id: number;
  /** A Buffer over the whole SharedArrayBuffer. */
  readonly memory: Buffer;
}

export class SlabPool {
  /** Slabs the main thread may hold blobs of: given out and not freed yet. */
  private readonly out = new Map<number, Slab>();
  private readonly free: Slab[] = [];
  private nextId = 1;

  /** `keep` bounds the free slabs kept, and so the worker's memory when it idles. */
  constructor(
    private readonly freed: MessagePort,
    readonly slabBytes: number,
    private readonly keep: number,
  ) {}

  /**
   * A slab with room for `need` bytes: a freed one if any (and `need` fits a standard slab),
   * else a new one. The caller tells the main thread its id and memory before reporting blobs
   * in it — for a reused slab too: the main thread forgets a slab when it frees it.
   */
  take(need: number): Slab {
    this.collect();
    let slab = need <= this.slabBytes ? this.free.pop() : undefined;
    if (slab === undefined) {
      const memory = Buffer.from(new SharedArrayBuffer(Math.max(need, this.slabBytes)));
      slab = { id: this.nextId++, memory };
    }
    this.out.set(slab.id, slab);
    return slab;
  }

  /** Takes in the ids the main thread freed (a synchronous read: a job never yields). */
  private collect(): void {
    for (;;) {
      const back = receiveMessageOnPort(this.freed);
      if (back === undefined) return;
      const slab = this.out.get(back.message as number);
      if (slab === undefined) continue;
      this.out.delete(slab.id);
      // An oversized slab, or one beyond the bound, is left to the collector.
      if (slab.memory.length === this.slabBytes && this.free.length < this.keep)
        this.free.push(slab);
    }
  }
}
