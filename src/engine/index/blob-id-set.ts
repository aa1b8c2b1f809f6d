/**
 * A compact set of blob ids with one flag bit per member, for prune's reachability pass over
 * repositories with tens of millions of blobs. Keys are the first 16 bytes of each id (ids are
 * keyed HMACs, see master-index.ts for why a 128-bit prefix is safe), stored in open addressing
 * at load factor ≤ 0.75: 16 B + 1 flag byte per slot, ≈ 23–45 B per member.
 */
import { idToBytes } from '../../core/index.js';

const PREFIX_WORDS = 4;

export class BlobIdSet {
  private keys = new Uint32Array(PREFIX_WORDS * 1024);
  private flags = new Uint8Array(1024);
  private used = new Uint8Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  memoryBytes(): number {
    return this.keys.byteLength + this.flags.byteLength + this.used.byteLength;
  }

  /** Adds `id`; returns false when it was already a member. */
  add(id: string): boolean {
    if ((this.count + 1) * 4 > this.used.length * 3) this.grow();
    const k = idToBytes(id);
    const slot = this.findSlot(k);
    if (this.used[slot]) return false;
    this.used[slot] = 1;
    for (let w = 0; w < PREFIX_WORDS; w++)
      this.keys[slot * PREFIX_WORDS + w] = k.readUInt32LE(w * 4);
    this.count++;
    return true;
  }

  has(id: string): boolean {
    return this.used[this.findSlot(idToBytes(id))] === 1;
  }

  /** Sets the member's flag; returns its previous value (false for non-members, which stay out). */
  testAndSetFlag(id: string): boolean {
    const slot = this.findSlot(idToBytes(id));
    if (!this.used[slot]) return false;
    const was = this.flags[slot] === 1;
    this.flags[slot] = 1;
    return was;
  }

  private findSlot(k: Buffer): number {
    const mask = this.used.length - 1;
    const w0 = k.readUInt32LE(0);
    const w1 = k.readUInt32LE(4);
    const w2 = k.readUInt32LE(8);
    const w3 = k.readUInt32LE(12);
    for (let s = w0 & mask; ; s = (s + 1) & mask) {
      if (!this.used[s]) return s;
      const o = s * PREFIX_WORDS;
      if (
        this.keys[o] === w0 &&
        this.keys[o + 1] === w1 &&
        this.keys[o + 2] === w2 &&
        this.keys[o + 3] === w3
      )
        return s;
    }
  }

  private grow(): void {
    const old = { keys: this.keys, flags: this.flags, used: this.used };
    const size = this.used.length * 2;
    this.keys = new Uint32Array(size * PREFIX_WORDS);
    this.flags = new Uint8Array(size);
    this.used = new Uint8Array(size);
    const mask = size - 1;
    for (let i = 0; i < old.used.length; i++) {
      if (!old.used[i]) continue;
      let s = old.keys[i * PREFIX_WORDS]! & mask;
      while (this.used[s]) s = (s + 1) & mask;
      this.used[s] = 1;
      this.flags[s] = old.flags[i]!;
      this.keys.set(old.keys.subarray(i * PREFIX_WORDS, (i + 1) * PREFIX_WORDS), s * PREFIX_WORDS);
    }
  }
}
