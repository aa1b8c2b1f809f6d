/**
 * Reading the data blobs a restore needs from one pack in few, large ranged reads: blobs are
 * sorted by offset and neighbours less than MAX_GAP apart are fetched together, up to MAX_RANGE
 * per read, instead of one open/read/close (or one request, on S3) per blob. Every blob is still
 * authenticated and checked against its id (Repository.decodeBlob) on its own.
 *
 * When a range cannot be read or a blob in it does not verify, that blob is loaded again through
 * Repository.loadBlob, which tries the other locations the index files give and warns once per
 * pack: a damaged pack costs a slower path, never a wrong byte.
 */
import { HoldfastError, throwIfAborted, type BlobId, type PackId } from '../../core/index.js';
import type { BlobLocation } from '../index/index.js';
import type { Repository } from '../repository/index.js';

/** Bytes between two blobs still read rather than skipped (a second read costs more). */
export const MAX_GAP = 512 * 1024;
/** Upper bound of one ranged read; a single larger blob is read alone. */
export const MAX_RANGE = 8 * 1024 * 1024;

export interface WantedBlob {
  readonly id: BlobId;
  readonly loc: BlobLocation;
}

export interface PackRange {
  readonly offset: number;
  readonly length: number;
  readonly blobs: readonly WantedBlob[];
}

/** Groups blobs of one pack into ranged reads (sorted by offset; each blob once). */
export function coalesce(blobs: readonly WantedBlob[]): PackRange[] {
  const sorted = [...blobs].sort((a, b) => a.loc.offset - b.loc.offset);
  const ranges: PackRange[] = [];
  let current: { offset: number; end: number; blobs: WantedBlob[] } | undefined;
  for (const b of sorted) {
    const end = b.loc.offset + b.loc.length;
    if (
      current &&
      b.loc.offset - current.end <= MAX_GAP &&
      Math.max(end, current.end) - current.offset <= MAX_RANGE
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

/** A blob's plaintext, or why it could not be had (a HoldfastError or a storage error). */
export type BlobResult = { readonly data: Buffer } | { readonly error: unknown };

/**
 * Reads `blobs` (all located in `packId`) and hands each one to `deliver`, range by range, in
 * offset order; the next range is read once the previous range's deliveries have settled, so at
 * most one range (≤ MAX_RANGE, or one blob) of this pack is held at a time. Rejects only when
 * `signal` aborts or `deliver` rejects; a blob that cannot be read is delivered as an error.
 */
export async function readPackBlobs(
  repo: Repository,
  packId: PackId,
  blobs: readonly WantedBlob[],
  deliver: (blob: WantedBlob, result: BlobResult) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  for (const range of coalesce(blobs)) {
    throwIfAborted(signal);
    let bytes: Buffer | undefined;
    try {
      bytes = await repo.store.get(
        'pack',
        packId,
        { offset: range.offset, length: range.length },
        signal ? { signal } : {},
      );
    } catch (err) {
      if (isInterruption(err)) throw err;
      bytes = undefined; // each blob tries loadBlob, which knows the other locations
    }
    for (const blob of range.blobs) {
      throwIfAborted(signal);
      await deliver(blob, await decodeOrLoad(repo, packId, blob, range, bytes, signal));
    }
  }
}

async function decodeOrLoad(
  repo: Repository,
  packId: PackId,
  blob: WantedBlob,
  range: PackRange,
  bytes: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<BlobResult> {
  const { loc } = blob;
  if (bytes && loc.type === 'data') {
    try {
      const start = loc.offset - range.offset;
      const data = repo.decodeBlob(
        'data',
        blob.id,
        bytes.subarray(start, start + loc.length),
        loc.compression,
        loc.rawLength,
        `pack ${packId}`,
      );
      return { data };
    } catch (err) {
      if (!(err instanceof HoldfastError && err.code === 'INTEGRITY')) return { error: err };
    }
  }
  try {
    return { data: await repo.loadBlob('data', blob.id, signal) };
  } catch (err) {
    if (isInterruption(err)) throw err;
    return { error: err };
  }
}

function isInterruption(err: unknown): boolean {
  return err instanceof HoldfastError && err.code === 'INTERRUPTED';
}
