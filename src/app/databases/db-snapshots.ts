/**
 * Database snapshots among the others: recognised by `meta.kind` (the tags are for people and
 * filters; the kind is what holdfast relies on). PostgreSQL snapshots also carry the cluster's
 * system identifier, so that several clusters can share one repository.
 */
import { HoldfastError } from '../../core/index.js';
import type { SnapshotEntry } from '../../engine/index.js';

export type DbSnapshotKind = 'pg-base' | 'pg-wal' | 'pg-dump' | 'mysql-dump';

/** Default tag of each kind: `snapshots --tag pg-wal`, `forget --tag pg-base --keep-last 7`. */
export const DB_TAGS: Readonly<Record<DbSnapshotKind, string>> = {
  'pg-base': 'pg-base',
  'pg-wal': 'pg-wal',
  'pg-dump': 'pg-dump',
  'mysql-dump': 'mysql-dump',
};

export function metaOf(e: SnapshotEntry): Readonly<Record<string, string>> {
  const meta: unknown = e.snapshot.meta;
  return typeof meta === 'object' && meta !== null ? (meta as Record<string, string>) : {};
}

export function ofKind(entries: readonly SnapshotEntry[], kind: DbSnapshotKind): SnapshotEntry[] {
  return entries.filter((e) => metaOf(e).kind === kind);
}

/**
 * The PostgreSQL cluster to work on: the one asked for, or the only one the repository holds.
 * Undefined when the repository has no PostgreSQL snapshot at all.
 */
export function chooseSystemId(
  entries: readonly SnapshotEntry[],
  requested: string | undefined,
): string | undefined {
  if (requested !== undefined) return requested;
  const ids = new Set<string>();
  for (const e of entries) {
    const m = metaOf(e);
    if ((m.kind === 'pg-base' || m.kind === 'pg-wal') && m.system_identifier)
      ids.add(m.system_identifier);
  }
  if (ids.size > 1)
    throw new HoldfastError(
      'USAGE',
      `the repository holds several PostgreSQL clusters: ${[...ids].join(', ')}`,
      { hint: 'choose one with --system-id' },
    );
  return [...ids][0];
}

/** Snapshots of `kind` of the cluster `systemId` (entries without one match any cluster). */
export function ofCluster(
  entries: readonly SnapshotEntry[],
  kind: DbSnapshotKind,
  systemId: string | undefined,
): SnapshotEntry[] {
  return ofKind(entries, kind).filter((e) => {
    const id = metaOf(e).system_identifier;
    return systemId === undefined || id === undefined || id === systemId;
  });
}
