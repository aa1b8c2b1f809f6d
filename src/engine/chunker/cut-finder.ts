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
import { loadAddon } from '../../core/index.js';
import type { ChunkerParams } from './chunker-params.js';

const NORMALIZATION_LEVEL = 2;

/** native/cut_search.c: the loop below the rule above, in C (about twice V8's speed). */
interface ChunkerAddon {
  findCut(
    gear: Int32Array,
    data: Uint8Array,
    from: number,
    state: Int32Array,
    minSize: number,
    normalSize: number,
    maxSize: number,
    maskS: number,
    maskL: number,
  ): number;
}

export class CutFinder {
  private readonly addon = loadAddon<ChunkerAddon>('holdfast_chunker');
  private readonly minSize: number;
  private readonly normalSize: number;
  private readonly maxSize: number;
  private readonly maskS: number;
  private readonly maskL: number;
  /** [0]: bytes of the current chunk scanned so far, across calls; [1]: the hash so far. */
  private readonly state = new Int32Array(2);

  /** `params` must already be validated. */
  constructor(
    private readonly gear: Int32Array,
    params: ChunkerParams,
  ) {
    [this.minSize, this.normalSize, this.maxSize, this.maskS, this.maskL] = cutRuleOf(params);
  }

  /** Bytes of the current, not yet cut chunk. */
  get pendingLength(): number {
    return this.state[0]!;
  }

  reset(): void {
    this.state.fill(0);
  }

  /**
   * Continues the current chunk with data[from..]. Returns the index just past the chunk's last
   * byte and starts a new chunk there, or returns -1 when data ends first (state is kept).
   */
  findCut(data: Uint8Array, from: number): number {
    return this.addon.findCut(
      this.gear,
      data,
      from,
      this.state,
      this.minSize,
      this.normalSize,
      this.maxSize,
      this.maskS,
      this.maskL,
    );
  }
}

/**
 * The numbers of the rule above for validated `params`: [minSize, normalSize, maxSize, maskS,
 * maskL], as native/cut_rule.h takes them (here and in the native file sealers).
 */
export function cutRuleOf(params: ChunkerParams): [number, number, number, number, number] {
  const bits = Math.log2(params.avgSize);
  return [
    params.minSize,
    params.avgSize,
    params.maxSize,
    topBits(bits + NORMALIZATION_LEVEL),
    topBits(bits - NORMALIZATION_LEVEL),
  ];
}

/** An int32 with the top `n` bits set (1 <= n <= 32). */
function topBits(n: number): number {
  return (0xffffffff << (32 - n)) | 0;
}
