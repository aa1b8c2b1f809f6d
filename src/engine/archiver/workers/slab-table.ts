/**
 * SlabTable: the main thread's side of one file worker's slabs (see SlabPool). It keeps the
 * slabs whose blobs the main thread may still use, and counts holds on each: one per blob
 * offered to the BlobWriter until the writer drops it (a duplicate) or releases it (its pack is
 * stored: SealedBlobOwner). A slab the worker retired and that has no hold left is forgotten
 * here and its id sent back, so the worker seals into the same memory again.
 *
 * A slab the worker has not retired is never freed, even with no hold: the worker is still
 * appending to it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SealedBlobOwner } from '../../repository/index.js';
import type { NewSlab } from './file-job.js';

interface Entry {
  readonly id: number;
  readonly memory: SharedArrayBuffer;
  holds: number;
  retired: boolean;
}

export class SlabTable implements SealedBlobOwner {
  private readonly byId = new Map<number, Entry>();
  /** By the slab's memory as this thread sees it: what a released blob's Buffer points into. */
  private readonly byMemory = new Map<ArrayBufferLike, Entry>();
  private closed = false;

  constructor(private readonly freed: MessagePort) {}

  /** A slab the worker (re)started sealing into. */
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

  /** The worker moved on from the slab: it is freed once no hold is left. */
  retire(slab: number): void {
    const entry = this.entry(slab);
    entry.retired = true;
    this.freeIfDone(entry);
  }

  /** The worker is gone: nothing is sent back any more. */
  close(): void {
    this.closed = true;
    this.byId.clear();
    this.byMemory.clear();
    this.freed.close();
  }

  private letGo(entry: Entry): void {
    entry.holds--;
    this.freeIfDone(entry);
  }

  private freeIfDone(entry: Entry): void {
    if (!entry.retired || entry.holds > 0 || this.closed) return;
    this.byId.delete(entry.id);
    this.byMemory.delete(entry.memory);
    this.freed.postMessage(entry.id);
  }

  private entry(slab: number): Entry {
    const entry = this.byId.get(slab);
    // A report names only slabs it (or an earlier one) introduced and that are not freed.
    if (entry === undefined) throw new Error(`file worker reported unknown slab ${slab}`);
    return entry;
  }
}
