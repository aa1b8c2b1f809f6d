/**
 * SortedEntries: the master index's compact table, built by merging and then only read, except
 * that a relocation may overwrite a location in place (repository-format.md §17). It spends no
 * memory on hash slots or spare capacity:
 *
 * - entries are sorted by key, and a directory of 65,537 u32 gives where each value of the key's
 *   first two bytes starts, so those two bytes are not stored: 14 bytes of key per entry;
 * - the four location numbers are stored little-endian in the fewest whole bytes that hold the
 *   largest value of each in this table (a 16 MiB pack needs 3 bytes of offset, not 4), so an
 *   entry's location takes 4–16 bytes (9–13 at default sizes). Widths never shrink on a merge,
 *   so runs of entries can be copied whole.
 *
 * A lookup is a binary search within one directory bucket (≈ 8 steps at 10 million blobs).
 */
import { BUCKETS, TAIL, type EntryFields, type EntryTable } from './entry-fields.js';
import type { SortedRun } from './sorted-run.js';

type Widths = readonly [number, number, number, number];

/** Fewest bytes that hold `max` (at least 1). */
function widthFor(max: number): number {
  return max < 0x100 ? 1 : max < 0x10000 ? 2 : max < 0x1000000 ? 3 : 4;
}

export class SortedEntries implements EntryTable {
  private constructor(
    private readonly dir: Uint32Array,
    private readonly keys: Buffer,
    private readonly fields: Buffer,
    /** Bytes of pack, offset, length and word. */
    private readonly widths: Widths,
    readonly count: number,
  ) {
    this.record = widths[0] + widths[1] + widths[2] + widths[3];
  }

  /** Bytes of one entry's location. */
  private readonly record: number;

  static empty(): SortedEntries {
    return new SortedEntries(
      new Uint32Array(BUCKETS + 1),
      Buffer.alloc(0),
      Buffer.alloc(0),
      [1, 1, 1, 1],
      0,
    );
  }

  /**
   * A table of every entry of `base` and `run`; where both hold a key, `run`'s entry wins (a
   * relocation that did not fit `base`'s widths). Both are in key order, so this is one
   * sequential pass; runs of `base` entries are copied whole.
   */
  static merge(base: SortedEntries, run: SortedRun): SortedEntries {
    const widths = [0, 1, 2, 3].map((f) =>
      Math.max(base.count === 0 ? 1 : base.widths[f]!, widthFor(run.max(f))),
    ) as unknown as Widths;
    const record = widths[0] + widths[1] + widths[2] + widths[3];
    const sameWidths = widths.every((w, f) => w === base.widths[f]);
    const total = base.count + run.count;
    let keys = Buffer.alloc(total * TAIL);
    let fields = Buffer.alloc(total * record);
    const dir = new Uint32Array(BUCKETS + 1);
    let n = 0;
    const copyBase = (from: number, to: number): void => {
      if (from === to) return;
      base.keys.copy(keys, n * TAIL, from * TAIL, to * TAIL);
      if (sameWidths) base.fields.copy(fields, n * record, from * record, to * record);
      else
        for (let i = from, o = n * record; i < to; i++, o += record)
          writeFields(
            fields,
            o,
            widths,
            base.pack(i),
            base.offset(i),
            base.length(i),
            base.word(i),
          );
      n += to - from;
    };
    const { tails, meta, bucketStart } = run;
    for (let b = 0; b < BUCKETS; b++) {
      dir[b] = n;
      let i = base.dir[b]!;
      const baseEnd = base.dir[b + 1]!;
      for (let j = bucketStart[b]!; j < bucketStart[b + 1]!; j++) {
        // Base entries below run entry j go first, as one run; an equal one is replaced.
        const runStart = i;
        const next4 = run.next4(j);
        let d = -1;
        for (; i < baseEnd; i++) {
          d = base.keys.readUInt32BE(i * TAIL) - next4;
          if (d === 0)
            d = base.keys.compare(tails, j * TAIL, (j + 1) * TAIL, i * TAIL, (i + 1) * TAIL);
          if (d >= 0) break;
        }
        copyBase(runStart, i);
        if (i < baseEnd && d === 0) i++;
        let o = n * TAIL;
        for (let k = j * TAIL, end = k + TAIL; k < end; k++) keys[o++] = tails[k]!;
        const m = j * 4;
        writeFields(fields, n * record, widths, meta[m]!, meta[m + 1]!, meta[m + 2]!, meta[m + 3]!);
        n++;
      }
      copyBase(i, baseEnd);
    }
    dir[BUCKETS] = n;
    if (n < total) {
      keys = Buffer.from(keys.subarray(0, n * TAIL));
      fields = Buffer.from(fields.subarray(0, n * record));
    }
    return new SortedEntries(dir, keys, fields, widths, n);
  }

  find(key: Buffer, at = 0): number {
    const b = (key[at]! << 8) | key[at + 1]!;
    let lo = this.dir[b]!;
    let hi = this.dir[b + 1]!;
    if (lo === hi) return -1;
    const k0 = key.readUInt32BE(at + 2);
    const k1 = key.readUInt32BE(at + 6);
    const k2 = key.readUInt32BE(at + 10);
    const k3 = key.readUInt16BE(at + 14);
    const keys = this.keys;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const o = mid * TAIL;
      let d = keys.readUInt32BE(o) - k0;
      if (d === 0) d = keys.readUInt32BE(o + 4) - k1;
      if (d === 0) d = keys.readUInt32BE(o + 8) - k2;
      if (d === 0) d = keys.readUInt16BE(o + 12) - k3;
      if (d === 0) return mid;
      if (d < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  pack(i: number): number {
    return readField(this.fields, i * this.record, this.widths[0]);
  }

  offset(i: number): number {
    return readField(this.fields, i * this.record + this.widths[0], this.widths[1]);
  }

  length(i: number): number {
    const w = this.widths;
    return readField(this.fields, i * this.record + w[0] + w[1], w[2]);
  }

  word(i: number): number {
    const w = this.widths;
    return readField(this.fields, i * this.record + w[0] + w[1] + w[2], w[3]);
  }

  /** Overwrites entry `i`'s location if every number fits this table's widths; else false. */
  trySet(i: number, f: EntryFields): boolean {
    const w = this.widths;
    const fits = [f.pack, f.offset, f.length, f.word].every((v, k) => widthFor(v) <= w[k]!);
    if (fits) writeFields(this.fields, i * this.record, w, f.pack, f.offset, f.length, f.word);
    return fits;
  }

  memoryBytes(): number {
    return this.dir.byteLength + this.keys.byteLength + this.fields.byteLength;
  }
}

// Every location number is a u32, so shifts are exact (>>> 0 keeps the top bit unsigned).
function readField(bytes: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let k = width - 1; k >= 0; k--) v = ((v << 8) | bytes[at + k]!) >>> 0;
  return v;
}

function writeField(bytes: Uint8Array, at: number, width: number, value: number): void {
  for (let k = 0; k < width; k++, value >>>= 8) bytes[at + k] = value & 0xff;
}

function writeFields(
  out: Uint8Array,
  at: number,
  widths: Widths,
  pack: number,
  offset: number,
  length: number,
  word: number,
): void {
  writeField(out, at, widths[0], pack);
  writeField(out, at + widths[0], widths[1], offset);
  writeField(out, at + widths[0] + widths[1], widths[2], length);
  writeField(out, at + widths[0] + widths[1] + widths[2], widths[3], word);
}
