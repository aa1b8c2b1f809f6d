/**
 * The archive of one cluster as recovery sees it: base backups, WAL segments by name, and the
 * timeline histories (read from the archived .history files).
 */
import type { Repository, SnapshotEntry } from '../../engine/index.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  historyTimeline,
  parseLsn,
  parseSegmentName,
  parseTimelineHistory,
  type TimelineHistoryEntry,
} from '../../sources/index.js';
import { chooseSystemId, metaOf, ofCluster } from './db-snapshots.js';
import { WAL_DIR } from './pg-wal.js';
import { readSnapshotFile } from './snapshot-file.js';
import type { ArchivedSegment } from './wal-continuity.js';

export interface BaseBackup {
  readonly entry: SnapshotEntry;
  readonly timeline: number;
  readonly startLsn: bigint;
  readonly stopLsn: bigint;
  /** When the backup had finished: recovery targets before it cannot use it. */
  readonly endTime: string;
}

export interface WalArchive {
  readonly systemId: string | undefined;
  readonly segmentSize: number;
  /** Oldest first. */
  readonly bases: readonly BaseBackup[];
  readonly segments: ReadonlyMap<string, ArchivedSegment>;
  readonly histories: ReadonlyMap<number, readonly TimelineHistoryEntry[]>;
  /** WAL snapshots, by file name (every kind). */
  readonly walFiles: ReadonlyMap<string, SnapshotEntry>;
}

export function baseBackupOf(entry: SnapshotEntry): BaseBackup | undefined {
  const m = metaOf(entry);
  if (m.kind !== 'pg-base' || !m.start_lsn || !m.stop_lsn || !m.timeline) return undefined;
  return {
    entry,
    timeline: Number(m.timeline),
    startLsn: parseLsn(m.start_lsn),
    stopLsn: parseLsn(m.stop_lsn),
    endTime: entry.snapshot.summary?.backup_end ?? entry.snapshot.time,
  };
}

export async function loadWalArchive(
  repo: Repository,
  entries: readonly SnapshotEntry[],
  requestedSystemId: string | undefined,
  signal?: AbortSignal,
): Promise<WalArchive> {
  const systemId = chooseSystemId(entries, requestedSystemId);
  const bases = ofCluster(entries, 'pg-base', systemId)
    .map(baseBackupOf)
    .filter((b): b is BaseBackup => b !== undefined);
  const wal = ofCluster(entries, 'pg-wal', systemId);
  const sizes = [...wal, ...ofCluster(entries, 'pg-base', systemId)]
    .map((e) => Number(metaOf(e).wal_segment_size))
    .filter((n) => n > 0);
  const segmentSize = sizes[0] ?? DEFAULT_WAL_SEGMENT_SIZE;
  const segments = new Map<string, ArchivedSegment>();
  const walFiles = new Map<string, SnapshotEntry>();
  const histories = new Map<number, readonly TimelineHistoryEntry[]>();
  for (const e of wal) {
    const name = metaOf(e).wal_name;
    if (!name || walFiles.has(name)) continue;
    walFiles.set(name, e);
    if (metaOf(e).wal_kind === 'segment') {
      const pos = parseSegmentName(name, segmentSize);
      if (pos) segments.set(name, { name, ...pos, time: e.snapshot.time });
    }
    const tli = historyTimeline(name);
    if (tli !== undefined) {
      const text = (await readSnapshotFile(repo, e, `${WAL_DIR}/${name}`, signal)).toString('utf8');
      histories.set(tli, parseTimelineHistory(text, name));
    }
  }
  return { systemId, segmentSize, bases, segments, histories, walFiles };
}

/** Timelines the archive knows of: 1, every history file's, every segment's. */
export function knownTimelines(a: WalArchive): number[] {
  const all = new Set<number>([
    1,
    ...a.histories.keys(),
    ...[...a.segments.values()].map((s) => s.timeline),
  ]);
  for (const b of a.bases) all.add(b.timeline);
  return [...all].sort((x, y) => x - y);
}
