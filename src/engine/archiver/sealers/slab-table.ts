/**
 * SlabTable: the main thread's side of one file sealer's slabs. A sealer seals blobs into slabs
 * (its memory, seen here as ArrayBuffers) blob after blob, across jobs, and the main thread
 * reads the reported blobs in place: nothing is copied. The table keeps the slabs whose blobs
 * the main thread may still use and counts holds on each: one per blob offered to the
 * BlobWriter until the writer drops it (a duplicate) or releases it (its pack is stored:
 * SealedBlobOwner). A slab the sealer retired and that has no hold left is forgotten here and
 * its id handed back (`freed`), so the sealer seals into the same memory again.
 *
 * Why reused slabs: a buffer handed to the main thread and dropped there is freed only when V8
 * collects the views onto it — promoted while their pack filled, so at the next full
 * collection — and every new one is fresh memory, a page fault per 4 KiB on this kind of host.
 *
 * A slab the sealer has not retired is never freed, even with no hold: the sealer is still
 * appending to it.
 */
import type { SealedBlobOwner } from '../../repository/index.js';
import type { NewSlab } from './sealer-codec.js';

interface Entry {
  readonly id: number;
  readonly memory: ArrayBuffer;
  holds: number;
  retired: boolean;
}

export class SlabTable implements SealedBlobOwner {
  private readonly byId = new Map<number, Entry>();
  /** By the slab's memory as this thread sees it: what a released blob's Buffer points into. */
  private readonly byMemory = new Map<ArrayBufferLike, Entry>();
  private closed = false;

  constructor(private readonly freed: (slab: number) => void) {}

  /** A slab the sealer (re)started sealing into. */
  add(slab: NewSlab): void {
    const entry: Entry = { id: slab.id, memory: slab.memory, holds: 0, retired: false };
    this.byId.set(slab.id, entry);
    this.byMemory.set(slab.memory, entry);
  }

  /** A blob's bytes, in place, with a hold on its slab: the caller drops it or the writer releases it. */
  hold(slab: number, offset: number, length: number): Buffer {
    const entry = this.entry(slab);
    entry.holds++;
    return Buffer.from(entry.memory, offset, length);
  }

  /** Drops the hold of a blob the writer did not keep. */
  drop(slab: number): void {
    this.letGo(this.entry(slab));
  }

  /** SealedBlobOwner: the pack holding `sealed` is stored. */
  release(sealed: Buffer): void {
    const entry = this.byMemory.get(sealed.buffer);
    if (entry !== undefined) this.letGo(entry);
  }

  /** The sealer moved on from the slab: it is freed once no hold is left. */
  retire(slab: number): void {
    const entry = this.entry(slab);
    entry.retired = true;
    this.freeIfDone(entry);
  }

  /** The sealer is gone: nothing is handed back any more. */
  close(): void {
    this.closed = true;
    this.byId.clear();
    this.byMemory.clear();
  }

  private letGo(entry: Entry): void {
    entry.holds--;
    this.freeIfDone(entry);
  }

  private freeIfDone(entry: Entry): void {
    if (!entry.retired || entry.holds > 0 || this.closed) return;
    this.byId.delete(entry.id);
    this.byMemory.delete(entry.memory);
    this.freed(entry.id);
  }

  private entry(slab: number): Entry {
    const entry = this.byId.get(slab);
    // A report names only slabs it (or an earlier one) introduced and that are not freed.
    if (entry === undefined) throw new Error(`file sealer reported unknown slab ${slab}`);
    return entry;
  }
}
