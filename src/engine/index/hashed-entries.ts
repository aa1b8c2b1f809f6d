/**
 * HashedEntries: the master index's table for entries that arrive one by one (a backup's own
 * packs, the packs an index load adds before it is compacted). Per entry: the 16-byte id prefix
 * and four u32 words (pack number, offset, sealed length, raw-length word), plus a u32 slot of an
 * open-addressing table at load factor 0.375–0.75. Insertion is O(1); the price is the slots and
 * the spare capacity of growing arrays, which is why the master index compacts these entries
 * into a SortedEntries table (sorted-entries.ts) once they are many.
 */
import { KEY_BYTES, TAIL, type EntryFields, type EntryTable } from './entry-fields.js';

const WORDS = 4;

export class HashedEntries implements EntryTable {
  private keys = Buffer.alloc(0);
  private meta = new Uint32Array(0);
  private slots = new Uint32Array(16);
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Entries that fit before the arrays must grow. */
  get capacity(): number {
    return this.meta.length / WORDS;
  }

  /** Makes room for `more` entries, so that a known number of additions never grows the arrays. */
  reserve(more: number): void {
    const capacity = this.n + more;
    if (capacity > this.capacity) this.resize(capacity);
    let slots = this.slots.length;
    while (capacity * 4 > slots * 3) slots *= 2;
    if (slots !== this.slots.length) this.rehash(slots);
  }

  /** Adds an entry whose key (at `at` of `key`) is not in the table yet; returns its number. */
  add(key: Buffer, at: number, fields: EntryFields): number {
    if (this.n === this.capacity) this.resize(Math.max(1024, Math.ceil(this.capacity * 1.5)));
    if ((this.n + 1) * 4 > this.slots.length * 3) this.rehash(this.slots.length * 2);
    const i = this.n++;
    // A byte loop: Buffer.copy's fixed cost dominates for 16 bytes.
    const keys = this.keys;
    for (let k = 0, o = i * KEY_BYTES; k < KEY_BYTES; k++) keys[o + k] = key[at + k]!;
    this.set(i, fields);
    this.insertSlot(i);
    return i;
  }

  set(i: number, fields: EntryFields): void {
    const m = this.meta;
    m[i * WORDS] = fields.pack;
    m[i * WORDS + 1] = fields.offset;
    m[i * WORDS + 2] = fields.length;
    m[i * WORDS + 3] = fields.word;
  }

  find(key: Buffer, at = 0): number {
    const mask = this.slots.length - 1;
    const k0 = key.readUInt32LE(at);
    const k1 = key.readUInt32LE(at + 4);
    const k2 = key.readUInt32LE(at + 8);
    const k3 = key.readUInt32LE(at + 12);
    const keys = this.keys;
    for (let s = k0 & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      const o = (v - 1) * KEY_BYTES;
      if (
        keys.readUInt32LE(o) === k0 &&
        keys.readUInt32LE(o + 4) === k1 &&
        keys.readUInt32LE(o + 8) === k2 &&
        keys.readUInt32LE(o + 12) === k3
      )
        return v - 1;
    }
  }

  /** Entries per value of the key's first byte: element v + 1 counts value v. */
  firstByteCounts(): Uint32Array {
    const counts = new Uint32Array(257);
    for (let i = 0; i < this.n; i++) counts[this.keys[i * KEY_BYTES]! + 1]!++;
    return counts;
  }

  /**
   * Copies every entry, in stored order, to position `fill[first key byte]++` of `tails` (its
   * key without the first two bytes), `second` (the key's second byte) and `meta` (its four
   * numbers). Only 256 places are written at a time, which keeps the writes cache-friendly.
   */
  scatter(fill: Uint32Array, tails: Uint8Array, second: Uint8Array, meta: Uint32Array): void {
    const keys = this.keys;
    const words = this.meta;
    for (let i = 0; i < this.n; i++) {
      const k0 = i * KEY_BYTES;
      const pos = fill[keys[k0]!]!++;
      second[pos] = keys[k0 + 1]!;
      let o = pos * TAIL;
      for (let k = k0 + 2, end = k0 + KEY_BYTES; k < end; k++) tails[o++] = keys[k]!;
      o = pos * WORDS;
      for (let k = i * WORDS, end = k + WORDS; k < end; k++) meta[o++] = words[k]!;
    }
  }

  pack(i: number): number {
    return this.meta[i * WORDS]!;
  }

  offset(i: number): number {
    return this.meta[i * WORDS + 1]!;
  }

  length(i: number): number {
    return this.meta[i * WORDS + 2]!;
  }

  word(i: number): number {
    return this.meta[i * WORDS + 3]!;
  }

  memoryBytes(): number {
    return this.keys.byteLength + this.meta.byteLength + this.slots.byteLength;
  }

  private insertSlot(i: number): void {
    const mask = this.slots.length - 1;
    let s = this.keys.readUInt32LE(i * KEY_BYTES) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = i + 1;
  }

  private resize(capacity: number): void {
    const keys = Buffer.alloc(capacity * KEY_BYTES);
    this.keys.copy(keys, 0, 0, this.n * KEY_BYTES);
    const meta = new Uint32Array(capacity * WORDS);
    meta.set(this.meta.subarray(0, this.n * WORDS));
    this.keys = keys;
    this.meta = meta;
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size);
    for (let i = 0; i < this.n; i++) this.insertSlot(i);
  }
}
