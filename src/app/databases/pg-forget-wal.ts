/**
 * `pg forget-wal`: WAL that no remaining base backup needs is forgotten — every segment (and
 * .partial/.backup file) before the start of the oldest base backup of the cluster. History files
 * are kept: they are tiny and recovery along any later timeline reads them. Like `forget`, only
 * snapshot objects are deleted; `prune` then frees the space.
 */
import { HoldfastError, throwIfAborted } from '../../core/index.js';
import type { Repository, SnapshotEntry } from '../../engine/index.js';
import { parseSegmentName, segmentName, segmentOf } from '../../sources/index.js';
import { metaOf, ofCluster } from './db-snapshots.js';
import { loadWalArchive, type BaseBackup } from './wal-archive.js';

export interface ForgetWalOutcome {
  readonly oldestBase: BaseBackup;
  /** First segment kept (on the oldest base backup's timeline). */
  readonly keepFrom: string;
  /** Removed, or to be removed in a dry run; oldest first. */
  readonly removed: readonly SnapshotEntry[];
  readonly dryRun: boolean;
}

export async function runForgetWal(req: {
  readonly repo: Repository;
  readonly systemId?: string;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onRemoved?: (e: SnapshotEntry) => void;
}): Promise<ForgetWalOutcome> {
  const { repo, signal } = req;
  const entries = await repo.listSnapshots(signal);
  const archive = await loadWalArchive(repo, entries, req.systemId, signal);
  const oldest = [...archive.bases].sort((a, b) =>
    a.startLsn < b.startLsn ? -1 : a.startLsn > b.startLsn ? 1 : 0,
  )[0];
  if (!oldest)
    throw new HoldfastError(
      'USAGE',
      'the repository holds no base backup of this cluster; refusing to forget WAL',
      {
        hint: 'WAL is only useful with a base backup: take one with "holdfast pg basebackup" first',
      },
    );
  const keep = segmentOf(oldest.startLsn, archive.segmentSize);
  const removed: SnapshotEntry[] = [];
  for (const entry of ofCluster(entries, 'pg-wal', archive.systemId)) {
    const { wal_kind: kind, wal_name: name } = metaOf(entry);
    if (kind === 'history' || name === undefined) continue;
    const pos = parseSegmentName(name.replace(/\.[0-9A-F]{8}\.backup$/, ''), archive.segmentSize);
    if (pos && pos.segno < keep) removed.push(entry);
  }
  removed.sort(
    (a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id),
  );
  if (!req.dryRun)
    for (const e of removed) {
      throwIfAborted(signal);
      await repo.store.delete('snapshot', e.id, signal ? { signal } : {});
      req.onRemoved?.(e);
    }
  return {
    oldestBase: oldest,
    keepFrom: segmentName(oldest.timeline, keep, archive.segmentSize),
    removed,
    dryRun: req.dryRun === true,
  };
}
