/**
 * PackTable: the pack ids of the master index, numbered in order of arrival. Ids are kept as
 * 32 raw bytes in one growing buffer with an open-addressing table of u32 slots, about 40 B per
 * pack. As an array of hex strings and a Map they took about 140 B, which at the kernel tree's
 * 13 blobs per pack was a fifth of the index's memory per blob.
 */
import { idFromBytes, idToBytes, type PackId } from '../../core/index.js';

const ID = 32;

export class PackTable {
  private ids = Buffer.alloc(0);
  private slots = new Uint32Array(16);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The number of `packId`, adding it when new. */
  number(packId: PackId): number {
    const key = idToBytes(packId);
    const found = this.find(key);
    if (found >= 0) return found;
    if (this.count * ID === this.ids.length) this.grow();
    if ((this.count + 1) * 4 > this.slots.length * 3) this.rehash(this.slots.length * 2);
    const n = this.count++;
    key.copy(this.ids, n * ID);
    this.insertSlot(n);
    return n;
  }

  /** Makes room for `more` packs at once (no spare capacity when the number is known). */
  reserve(more: number): void {
    const capacity = this.count + more;
    if (capacity * ID > this.ids.length) {
      const ids = Buffer.alloc(capacity * ID);
      this.ids.copy(ids, 0, 0, this.count * ID);
      this.ids = ids;
    }
    let slots = this.slots.length;
    while (capacity * 4 > slots * 3) slots *= 2;
    if (slots !== this.slots.length) this.rehash(slots);
  }

  has(packId: PackId): boolean {
    return this.find(idToBytes(packId)) >= 0;
  }

  /** The id of pack number `n` (0 ≤ n < size). */
  idAt(n: number): PackId {
    return idFromBytes<PackId>(this.ids.subarray(n * ID, n * ID + ID));
  }

  /** Every pack id, in number order (a new array). */
  all(): PackId[] {
    const out: PackId[] = [];
    for (let n = 0; n < this.count; n++) out.push(this.idAt(n));
    return out;
  }

  memoryBytes(): number {
    return this.ids.byteLength + this.slots.byteLength;
  }

  private find(key: Buffer): number {
    const mask = this.slots.length - 1;
    for (let s = key.readUInt32LE(0) & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      if (this.ids.compare(key, 0, ID, (v - 1) * ID, v * ID) === 0) return v - 1;
    }
  }

  private insertSlot(n: number): void {
    const mask = this.slots.length - 1;
    let s = this.ids.readUInt32LE(n * ID) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = n + 1;
  }

  private grow(): void {
    const ids = Buffer.alloc(Math.max(64, Math.ceil(this.count * 1.5)) * ID);
    this.ids.copy(ids);
    this.ids = ids;
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size);
    for (let n = 0; n < this.count; n++) this.insertSlot(n);
  }
}
