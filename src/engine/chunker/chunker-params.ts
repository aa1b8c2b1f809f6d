/**
 * Chunk size parameters. They are part of a repository's configuration: changing them changes
 * every boundary and therefore defeats deduplication against existing snapshots.
 */
import { HoldfastError, KiB, MiB } from '../../core/index.js';

export interface ChunkerParams {
  /** No chunk is shorter, except the last chunk of a stream. Bytes below it are not hashed. */
  readonly minSize: number;
  /** Target size; a power of two that sets the two cut masks. */
  readonly avgSize: number;
  /** A chunk is cut here if no content boundary appeared earlier. */
  readonly maxSize: number;
}

/** restic's sizes: 512 KiB / 1 MiB / 8 MiB (docs/adr/0001-chunker.md). */
export const DEFAULT_CHUNKER_PARAMS: ChunkerParams = Object.freeze({
  minSize: 512 * KiB,
  avgSize: 1 * MiB,
  maxSize: 8 * MiB,
});

const MIN_MIN_SIZE = 64;
const MAX_MAX_SIZE = 64 * MiB;

/** Throws HoldfastError('CONFIG_INVALID') unless the parameters are usable; returns them. */
export function validateChunkerParams(params: ChunkerParams): ChunkerParams {
  const { minSize, avgSize, maxSize } = params;
  const problem = describeProblem(minSize, avgSize, maxSize);
  if (problem !== undefined) {
    throw new HoldfastError('CONFIG_INVALID', `Invalid chunker parameters: ${problem}.`, {
      hint: `Use a power-of-two average with ${MIN_MIN_SIZE} B <= min < avg < max <= 64 MiB, e.g. 512K/1M/8M.`,
    });
  }
  return params;
}

function describeProblem(min: number, avg: number, max: number): string | undefined {
  if (![min, avg, max].every(Number.isSafeInteger)) return 'sizes must be integers';
  if (min < MIN_MIN_SIZE) return `min ${min} is below ${MIN_MIN_SIZE} bytes`;
  if (max > MAX_MAX_SIZE) return `max ${max} exceeds 64 MiB`;
  if (!(min < avg && avg < max)) return `need min < avg < max, got ${min}/${avg}/${max}`;
  if ((avg & (avg - 1)) !== 0) return `avg ${avg} is not a power of two`;
  return undefined;
}
