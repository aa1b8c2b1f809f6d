/**
 * ArenaRecycler: the main thread's side of a file worker's arenas (the buffers it seals blobs
 * into, see JobRunner). A transferred arena is referenced by the blobs the BlobWriter kept from
 * it, until their packs are stored; then nothing reads it any more and it goes back to its
 * worker, which seals the next blobs into it.
 *
 * Why not let the garbage collector free it: an arena outlives a few scavenges while its pack
 * fills and uploads, so the views onto it are promoted to the old generation and the memory
 * (outside the heap) comes back only at the next full collection — on the kernel tree that was
 * ≈ 100 MiB of arenas dead but not yet freed at the peak. And a freshly allocated arena costs a
 * page fault per 4 KiB on first touch, which recycling spares.
 *
 * Only whole arenas go back (see ArenaPool); others (the copy that ends a job of small files,
 * the buffer of one oversized sealed chunk) are left to the collector.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SealedBlobOwner } from '../../repository/index.js';

export class ArenaRecycler implements SealedBlobOwner {
  /** Holds on each recycled arena: one per blob the writer kept, one while its report is handled. */
  private readonly holds = new Map<ArrayBuffer, number>();
  private closed = false;

  constructor(
    private readonly port: MessagePort,
    private readonly arenaBytes: number,
  ) {}

  /**
   * Takes a hold on `arena` if it is one to recycle, and says whether it is: its blobs are then
   * offered with this recycler as their owner, each after a `hold`.
   */
  adopt(arena: ArrayBuffer): boolean {
    if (this.closed || arena.byteLength !== this.arenaBytes) return false;
    this.holds.set(arena, 1);
    return true;
  }

  /** One more hold on an adopted arena (a blob about to be offered to the writer). */
  hold(arena: ArrayBuffer): void {
    this.holds.set(arena, this.holds.get(arena)! + 1);
  }

  /** SealedBlobOwner: the writer stored the pack holding `sealed`. */
  release(sealed: Buffer): void {
    this.drop(sealed.buffer as ArrayBuffer);
  }

  /** Drops one hold; the last one sends the arena back to its worker (which detaches it here). */
  drop(arena: ArrayBuffer): void {
    const left = this.holds.get(arena);
    if (left === undefined) return;
    if (left > 1) {
      this.holds.set(arena, left - 1);
      return;
    }
    this.holds.delete(arena);
    if (!this.closed) this.port.postMessage(arena, [arena]);
  }

  /** The worker is gone: arenas still held are left to the collector. */
  close(): void {
    this.closed = true;
    this.holds.clear();
    this.port.close();
  }
}
