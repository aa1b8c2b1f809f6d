/**
 * The FastCDC cut-point search (Xia et al., USENIX ATC 2016) over a keyed 32-bit gear hash.
 *
 * Format rule (normative): for each chunk, offsets are counted from the chunk's first byte.
 *   - Bytes at offsets < minSize are not hashed (cut-point skipping).
 *   - h starts at 0; for each byte b at offset k >= minSize: h = (2h + gear[b]) mod 2^32.
 *   - After hashing offset k, the chunk ends (length k + 1) when (h & mask) == 0, where
 *     mask = maskS while k < avgSize and maskL from k >= avgSize (normalized chunking, level 2).
 *     maskS is the top log2(avgSize) + 2 bits of h, maskL the top log2(avgSize) - 2 bits.
 *   - Otherwise the chunk ends at length maxSize; the stream's last chunk may be shorter.
 * Top bits, because bit n of a gear hash depends on the last n + 1 bytes only: the top bits see
 * the full 32-byte window.
 */
import type { ChunkerParams } from './chunker-params.js';

const NORMALIZATION_LEVEL = 2;

export class CutFinder {
  private readonly minSize: number;
  private readonly normalSize: number;
  private readonly maxSize: number;
  private readonly maskS: number;
  private readonly maskL: number;
  /** Bytes of the current chunk scanned so far, across calls. */
  private length = 0;
  private hash = 0;

  /** `params` must already be validated. */
  constructor(
    private readonly gear: Int32Array,
    params: ChunkerParams,
  ) {
    this.minSize = params.minSize;
    this.normalSize = params.avgSize;
    this.maxSize = params.maxSize;
    const bits = Math.log2(params.avgSize);
    this.maskS = topBits(bits + NORMALIZATION_LEVEL);
    this.maskL = topBits(bits - NORMALIZATION_LEVEL);
  }

  /** Bytes of the current, not yet cut chunk. */
  get pendingLength(): number {
    return this.length;
  }

  reset(): void {
    this.length = 0;
    this.hash = 0;
  }

  /**
   * Continues the current chunk with data[from..]. Returns the index just past the chunk's last
   * byte and starts a new chunk there, or returns -1 when data ends first (state is kept).
   */
  findCut(data: Uint8Array, from: number): number {
    const gear = this.gear;
    const end = data.length;
    // The chunk offset of data[i] is base + i; comparing indexes keeps the loops free of counters.
    const base = this.length - from;
    let h = this.hash;
    let i = from;

    const minEnd = this.minSize - base;
    if (i < minEnd) {
      if (minEnd >= end) return this.suspend(base + end, h);
      i = minEnd;
    }
    const normalEnd = this.normalSize - base;
    if (i < normalEnd) {
      const stop = normalEnd < end ? normalEnd : end;
      const mask = this.maskS;
      for (; i < stop; i++) {
        h = ((h << 1) + gear[data[i]!]!) | 0;
        if ((h & mask) === 0) return this.cut(i + 1);
      }
      if (i < normalEnd) return this.suspend(base + end, h);
    }
    const maxEnd = this.maxSize - base;
    const stop = maxEnd < end ? maxEnd : end;
    const mask = this.maskL;
    for (; i < stop; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & mask) === 0) return this.cut(i + 1);
    }
    if (i === maxEnd) return this.cut(i);
    return this.suspend(base + end, h);
  }

  private cut(at: number): number {
    this.length = 0;
    this.hash = 0;
    return at;
  }

  private suspend(length: number, hash: number): -1 {
    this.length = length;
    this.hash = hash;
    return -1;
  }
}

/** An int32 with the top `n` bits set (1 <= n <= 32). */
function topBits(n: number): number {
  return (0xffffffff << (32 - n)) | 0;
}
