/**
 * Planning the reads of the data blobs a restore needs from one pack: blobs are sorted by offset
 * and neighbours less than MAX_GAP apart are fetched together, up to MAX_RANGE per network
 * request or LOCAL_RANGE per read from a file here, instead of one open/read/close (or one
 * request, on S3) per blob. Every blob in a range is still
 * authenticated and checked against its id on its own (by the restore workers).
 */
import type { BlobId } from '../../core/index.js';
import type { BlobLocation } from '../index/index.js';

/** Bytes between two blobs still read rather than skipped (a second read costs more). */
export const MAX_GAP = 512 * 1024;
/**
 * Within a range read from a local file, blobs further apart than this are read separately: a
 * system call costs microseconds, copying a gap from the page cache about 0.2 ms per MiB.
 * Packs store blobs in shuffled order, so a batch's blobs are spread over the whole pack, and
 * ranges joined at MAX_GAP were mostly other batches' blobs: a kernel-tree restore read 5.0 GB
 * for 257 MB of blobs. 16, 64 and 256 KiB measured alike within noise; 64 KiB had the least
 * system time. The same parts are all that is copied out of a whole pack kept in memory
 * (PackCache).
 */
export const LOCAL_GAP = 64 * 1024;
/** Upper bound of one ranged read from network storage; a single larger blob is read alone. */
export const MAX_RANGE = 8 * 1024 * 1024;
/**
 * Upper bound of one range a restore worker reads from a file on this machine (a local
 * repository's pack, or a spooled copy) or takes out of a pack held whole in memory: the wanted
 * parts of a range land in the worker's one reused read buffer (PackFiles), which grows to the
 * largest range. Unlike a network request, a range costs nothing to split. Kernel-tree restore,
 * three rounds each, alternating: peak 160–166 MiB with 8 MiB ranges, 154–157 with 4, 147–155
 * with 2 and 146–149 with 1, in the same time.
 */
export const LOCAL_RANGE = 2 * 1024 * 1024;

export interface WantedBlob {
  readonly id: BlobId;
  readonly loc: BlobLocation;
}

export interface PackRange {
  readonly offset: number;
  readonly length: number;
  readonly blobs: readonly WantedBlob[];
}

/**
 * Groups blobs of one pack into ranged reads of at most `maxRange` bytes (sorted by offset; each
 * blob once; a single larger blob alone).
 */
export function coalesce(blobs: readonly WantedBlob[], maxRange = MAX_RANGE): PackRange[] {
  const sorted = [...blobs].sort((a, b) => a.loc.offset - b.loc.offset);
  const ranges: PackRange[] = [];
  let current: { offset: number; end: number; blobs: WantedBlob[] } | undefined;
  for (const b of sorted) {
    const end = b.loc.offset + b.loc.length;
    if (
      current &&
      b.loc.offset - current.end <= MAX_GAP &&
      Math.max(end, current.end) - current.offset <= maxRange
    ) {
      current.end = Math.max(current.end, end);
      current.blobs.push(b);
      continue;
    }
    if (current) ranges.push(toRange(current));
    current = { offset: b.loc.offset, end, blobs: [b] };
  }
  if (current) ranges.push(toRange(current));
  return ranges;
}

function toRange(r: { offset: number; end: number; blobs: WantedBlob[] }): PackRange {
  return { offset: r.offset, length: r.end - r.offset, blobs: r.blobs };
}

/** A part of a range to read: start (relative to the range's offset) and length. */
export type Segment = readonly [start: number, length: number];

/**
 * The parts of `range` holding its blobs, blobs less than `maxGap` apart joined: what a reader
 * of a local file reads instead of the whole range.
 */
export function segmentsOf(range: PackRange, maxGap: number): Segment[] {
  const segments: [number, number][] = [];
  for (const b of range.blobs) {
    const start = b.loc.offset - range.offset;
    const end = start + b.loc.length;
    const last = segments[segments.length - 1];
    if (last !== undefined && start - (last[0] + last[1]) <= maxGap)
      last[1] = Math.max(last[1], end - last[0]);
    else segments.push([start, end - start]);
  }
  return segments;
}

/**
 * Where each blob of `range` (in its order) starts once only `segments` (segmentsOf) are kept,
 * one after the other.
 */
export function packedStarts(range: PackRange, segments: readonly Segment[]): number[] {
  const starts: number[] = [];
  let segment = 0;
  let packedAt = 0;
  for (const b of range.blobs) {
    const start = b.loc.offset - range.offset;
    while (start >= segments[segment]![0] + segments[segment]![1]) {
      packedAt += segments[segment]![1];
      segment++;
    }
    starts.push(packedAt + start - segments[segment]![0]);
  }
  return starts;
}
