/**
 * Planning a prune: which indexed packs are unused (delete), which are mostly unused (repack),
 * and which stored packs no index lists (orphans: in-flight uploads or crash leftovers). Pure
 * bookkeeping over per-pack statistics; nothing here touches storage.
 */
import type { IndexId, PackId } from '../../core/index.js';

export interface PackStats {
  readonly packId: PackId;
  readonly file: IndexId;
  blobs: number;
  usedBlobs: number;
  bytes: number;
  usedBytes: number;
}

export interface PrunePlan {
  readonly remove: PackId[];
  readonly repack: PackId[];
  readonly orphans: PackId[];
  readonly totalBytes: number;
  readonly unusedBytes: number;
  /** Unused bytes still in the repository after this prune (in packs kept as they are). */
  readonly unusedBytesAfter: number;
  readonly repackBytes: number;
  readonly usedBlobs: number;
  readonly unusedBlobs: number;
}

export interface PlanLimits {
  /** Tolerated unused share of the repository, 0..1 (restic's --max-unused as a percentage). */
  readonly maxUnused: number;
  /** Upper bound on bytes read and rewritten by repacking. */
  readonly maxRepackBytes: number;
}

export function planPrune(
  stats: Iterable<PackStats>,
  orphans: PackId[],
  limits: PlanLimits,
): PrunePlan {
  const remove: PackId[] = [];
  const partial: PackStats[] = [];
  let totalBytes = 0;
  let unusedBytes = 0;
  let usedBlobs = 0;
  let unusedBlobs = 0;
  for (const s of stats) {
    totalBytes += s.bytes;
    unusedBytes += s.bytes - s.usedBytes;
    usedBlobs += s.usedBlobs;
    unusedBlobs += s.blobs - s.usedBlobs;
    if (s.usedBlobs === 0) remove.push(s.packId);
    else if (s.usedBlobs < s.blobs) partial.push(s);
  }
  // Repack the packs with the most waste first until the waste left is within the tolerance.
  partial.sort((a, b) => b.bytes - b.usedBytes - (a.bytes - a.usedBytes));
  let unusedAfter = partial.reduce((n, s) => n + s.bytes - s.usedBytes, 0);
  const repack: PackId[] = [];
  let repackBytes = 0;
  for (const s of partial) {
    const sizeAfter = totalBytes - (unusedBytes - unusedAfter);
    if (unusedAfter <= limits.maxUnused * sizeAfter) break;
    if (repackBytes + s.bytes > limits.maxRepackBytes) continue;
    repack.push(s.packId);
    repackBytes += s.bytes;
    unusedAfter -= s.bytes - s.usedBytes;
  }
  return {
    remove,
    repack,
    orphans,
    totalBytes,
    unusedBytes,
    unusedBytesAfter: unusedAfter,
    repackBytes,
    usedBlobs,
    unusedBlobs,
  };
}
