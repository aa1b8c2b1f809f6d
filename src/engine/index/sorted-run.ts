/**
 * SortedRun: a HashedEntries table's entries copied out in key order, the first step of a
 * compaction (master-index.ts). Kept apart from the hash table so that the table's memory can be
 * released before the merge into the sorted table allocates its own.
 *
 * Sorting is cache-friendly on purpose: at millions of entries, touching entries in a random
 * order costs a cache or TLB miss each (measured ≈ 0.3–0.5 µs per entry here). So entries are
 * moved in two radix passes that each write to only 256 places — by the key's first byte into
 * the run, then within each first-byte group by the second byte through a group-sized scratch
 * — and each resulting bucket (≈ 150 entries at 10 million) is sorted in place by its next four
 * key bytes through a Float64Array's numeric sort, comparing whole keys only for ties.
 */
import { BUCKETS, TAIL } from './entry-fields.js';
import type { HashedEntries } from './hashed-entries.js';

const WORDS = 4;
/** Positions in a bucket must fit below the 32-bit sort key within a double's 53 exact bits. */
const LOCAL_LIMIT = 2 ** 21;

/** Entry storage: key tails and location words, with copying between two such stores. */
interface Store {
  readonly tails: Uint8Array;
  readonly meta: Uint32Array;
}

function copyEntry(from: Store, i: number, to: Store, j: number): void {
  let o = j * TAIL;
  for (let k = i * TAIL, end = k + TAIL; k < end; k++) to.tails[o++] = from.tails[k]!;
  o = j * WORDS;
  for (let k = i * WORDS, end = k + WORDS; k < end; k++) to.meta[o++] = from.meta[k]!;
}

export class SortedRun implements Store {
  private constructor(
    /** Where each bucket's entries start; `bucketStart[BUCKETS]` is the count. */
    readonly bucketStart: Uint32Array,
    /** Each entry's key without its bucket bytes, TAIL bytes apiece. */
    readonly tails: Buffer,
    /** Each entry's pack, offset, length and word. */
    readonly meta: Uint32Array,
  ) {}

  get count(): number {
    return this.bucketStart[BUCKETS]!;
  }

  static from(table: HashedEntries): SortedRun {
    const n = table.count;
    const groupStart = table.firstByteCounts();
    for (let g = 0; g < 256; g++) groupStart[g + 1]! += groupStart[g]!;
    const tails = Buffer.alloc(n * TAIL);
    const meta = new Uint32Array(n * WORDS);
    const second = new Uint8Array(n);
    table.scatter(groupStart.slice(0, 256), tails, second, meta);
    const run = new SortedRun(new Uint32Array(BUCKETS + 1), tails, meta);
    run.splitGroups(groupStart, second);
    run.sortBuckets();
    return run;
  }

  /** The key bytes 2–5 of entry `j`, big-endian: the first thing two keys of a bucket differ in. */
  next4(j: number): number {
    return this.tails.readUInt32BE(j * TAIL);
  }

  /** The largest value of location number `field` (0 pack, 1 offset, 2 length, 3 word). */
  max(field: number): number {
    let m = 0;
    for (let k = field; k < this.meta.length; k += WORDS) m = Math.max(m, this.meta[k]!);
    return m;
  }

  /** The second radix pass: orders each first-byte group by the key's second byte. */
  private splitGroups(groupStart: Uint32Array, second: Uint8Array): void {
    let largest = 0;
    for (let g = 0; g < 256; g++) largest = Math.max(largest, groupStart[g + 1]! - groupStart[g]!);
    const scratch: Store = {
      tails: new Uint8Array(largest * TAIL),
      meta: new Uint32Array(largest * WORDS),
    };
    const fill = new Uint32Array(256);
    for (let g = 0; g < 256; g++) {
      const lo = groupStart[g]!;
      const hi = groupStart[g + 1]!;
      fill.fill(0);
      for (let i = lo; i < hi; i++) fill[second[i]!]!++;
      let at = 0;
      for (let s = 0; s < 256; s++) {
        this.bucketStart[g * 256 + s] = lo + at;
        const c = fill[s]!;
        fill[s] = at;
        at += c;
      }
      for (let i = lo; i < hi; i++) copyEntry(this, i, scratch, fill[second[i]!]!++);
      this.tails.set(scratch.tails.subarray(0, (hi - lo) * TAIL), lo * TAIL);
      this.meta.set(scratch.meta.subarray(0, (hi - lo) * WORDS), lo * WORDS);
    }
    this.bucketStart[BUCKETS] = groupStart[256]!;
  }

  private sortBuckets(): void {
    let largest = 0;
    for (let b = 0; b < BUCKETS; b++)
      largest = Math.max(largest, this.bucketStart[b + 1]! - this.bucketStart[b]!);
    const room = Math.min(largest, LOCAL_LIMIT);
    const sortKeys = new Float64Array(room);
    const order = new Uint32Array(room);
    const scratch: Store = {
      tails: new Uint8Array(room * TAIL),
      meta: new Uint32Array(room * WORDS),
    };
    for (let b = 0; b < BUCKETS; b++) {
      const lo = this.bucketStart[b]!;
      const hi = this.bucketStart[b + 1]!;
      const len = hi - lo;
      if (len < 2) continue;
      if (len >= LOCAL_LIMIT) {
        this.sortByComparator(lo, hi);
        continue;
      }
      for (let j = 0; j < len; j++) sortKeys[j] = this.next4(lo + j) * LOCAL_LIMIT + j;
      const keys = sortKeys.subarray(0, len);
      keys.sort();
      for (let j = 0; j < len; j++) order[j] = keys[j]! % LOCAL_LIMIT;
      this.permute(lo, order.subarray(0, len), scratch);
      for (let j = lo; j < hi;) {
        let end = j + 1;
        while (end < hi && this.next4(end) === this.next4(j)) end++;
        if (end - j > 1) this.sortByComparator(j, end);
        j = end;
      }
    }
  }

  /** Sorts entries lo … hi−1 by their whole tails (ties on the first four bytes; rare). */
  private sortByComparator(lo: number, hi: number): void {
    const tails = this.tails;
    const at = (j: number): [number, number] => [(lo + j) * TAIL, (lo + j + 1) * TAIL];
    const order = Array.from({ length: hi - lo }, (_, j) => j);
    order.sort((x, y) => tails.compare(tails, ...at(y), ...at(x)));
    const len = hi - lo;
    this.permute(lo, order, {
      tails: new Uint8Array(len * TAIL),
      meta: new Uint32Array(len * WORDS),
    });
  }

  /** Rearranges entries lo … lo+order.length−1 so that position j holds old position order[j]. */
  private permute(lo: number, order: ArrayLike<number>, scratch: Store): void {
    const len = order.length;
    scratch.tails.set(this.tails.subarray(lo * TAIL, (lo + len) * TAIL));
    scratch.meta.set(this.meta.subarray(lo * WORDS, (lo + len) * WORDS));
    for (let j = 0; j < len; j++) copyEntry(scratch, order[j]!, this, lo + j);
  }
}
