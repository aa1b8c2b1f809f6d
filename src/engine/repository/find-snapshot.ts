/**
 * Resolving what users type for a snapshot: "latest" (optionally filtered by host and paths),
 * a full id, or an unambiguous prefix of one.
 */
import { HoldfastError, type SnapshotId } from '../../core/index.js';
import type { SnapshotEntry } from './snapshot-files.js';

export interface SnapshotFilter {
  readonly hosts?: readonly string[];
  readonly tags?: readonly string[];
  readonly paths?: readonly string[];
}

export function matchesFilter(entry: SnapshotEntry, filter: SnapshotFilter): boolean {
  const s = entry.snapshot;
  if (filter.hosts?.length && !filter.hosts.includes(s.hostname)) return false;
  // restic: each --tag value is a comma-separated set whose tags must all be present; a
  // snapshot matches when any one of the sets does.
  if (
    filter.tags?.length &&
    !filter.tags.some((t) => t.split(',').every((x) => s.tags?.includes(x)))
  )
    return false;
  if (filter.paths?.length && !filter.paths.every((p) => s.paths.includes(p))) return false;
  return true;
}

export function findSnapshot(
  entries: readonly SnapshotEntry[],
  ref: string,
  filter: SnapshotFilter = {},
): SnapshotEntry {
  if (ref === 'latest') {
    const matching = entries.filter((e) => matchesFilter(e, filter));
    const last = matching[matching.length - 1];
    if (!last)
      throw new HoldfastError('NOT_FOUND', 'no snapshot matches "latest"', {
        hint: 'list them with "holdfast snapshots"',
      });
    return last;
  }
  if (!/^[0-9a-f]{1,64}$/.test(ref)) {
    throw new HoldfastError('USAGE', `"${ref}" is not a snapshot id`, {
      hint: 'use "latest", a full id or a unique prefix of one',
    });
  }
  const found = entries.filter((e) => e.id.startsWith(ref));
  if (found.length === 0)
    throw new HoldfastError('NOT_FOUND', `no snapshot with id ${ref}`, {
      hint: 'list them with "holdfast snapshots"',
    });
  if (found.length > 1) {
    throw new HoldfastError(
      'AMBIGUOUS_ID',
      `snapshot prefix ${ref} matches ${found.length} snapshots`,
      { hint: 'type more digits of the id' },
    );
  }
  return found[0]!;
}

export function isSnapshotId(value: string): value is SnapshotId {
  return /^[0-9a-f]{64}$/.test(value);
}
