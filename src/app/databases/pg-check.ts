/**
 * `pg check`: is the archive good for point-in-time recovery? For each base backup and each
 * timeline it can recover along, the WAL must be continuous from the segment the backup ended in
 * to the newest archived segment; history files must agree; and the newest point that recovery
 * can reach is the achieved recovery point (its age is the RPO).
 */
import { HoldfastError } from '../../core/index.js';
import type { Repository } from '../../engine/index.js';
import { formatLsn } from '../../sources/index.js';
import { knownTimelines, loadWalArchive, type BaseBackup } from './wal-archive.js';
import {
  baseFitsPath,
  timelinePath,
  timelineProblems,
  walContinuity,
  type Continuity,
} from './wal-continuity.js';

export interface BaseCheck {
  readonly base: BaseBackup;
  /** One per timeline this base can recover along. */
  readonly timelines: readonly Continuity[];
}

export interface RecoverablePoint {
  readonly timeline: number;
  readonly lsn: string;
  /** When the WAL that ends there was archived (or the base backup finished). */
  readonly time: string;
  /** Age of `time` at the check, in seconds. */
  readonly ageSeconds: number;
}

export interface PgCheckOutcome {
  readonly systemId: string | undefined;
  readonly segmentSize: number;
  readonly segmentCount: number;
  readonly timelines: readonly number[];
  readonly bases: readonly BaseCheck[];
  readonly problems: readonly string[];
  /** The newest point in time some base backup plus WAL can reach, if any. */
  readonly newestRecoverable: RecoverablePoint | undefined;
  /** No gaps, no history problems, at least one base backup. */
  readonly ok: boolean;
}

export async function runPgCheck(req: {
  readonly repo: Repository;
  readonly systemId?: string;
  readonly signal?: AbortSignal;
}): Promise<PgCheckOutcome> {
  const { repo, signal } = req;
  const now = repo.clock.now();
  const entries = await repo.listSnapshots(signal);
  const archive = await loadWalArchive(repo, entries, req.systemId, signal);
  if (archive.systemId === undefined && archive.bases.length === 0)
    throw new HoldfastError('NOT_FOUND', 'the repository holds no PostgreSQL base backup or WAL', {
      hint: 'run "holdfast pg basebackup" and set archive_command to "holdfast pg wal-push %p"',
    });
  const timelines = knownTimelines(archive);
  const problems = timelineProblems(
    archive.histories,
    new Set([...archive.segments.values()].map((s) => s.timeline)),
  );
  const bases: BaseCheck[] = archive.bases.map((base) => ({
    base,
    timelines: timelines.flatMap((t) => {
      const path = timelinePath(t, archive.histories);
      if (!path || !baseFitsPath(base.timeline, base.stopLsn, path)) return [];
      return [
        walContinuity({
          path,
          baseStopLsn: base.stopLsn,
          segments: archive.segments,
          segmentSize: archive.segmentSize,
        }),
      ];
    }),
  }));
  if (bases.length === 0) problems.push('no base backup: nothing to recover from');
  let newest: RecoverablePoint | undefined;
  for (const b of bases)
    for (const c of b.timelines) {
      const time = c.lastContinuous?.time ?? b.base.endTime;
      if (!newest || time > newest.time || (time === newest.time && c.timeline > newest.timeline))
        newest = {
          timeline: c.timeline,
          lsn: formatLsn(c.recoverableLsn),
          time,
          ageSeconds: Math.max(0, (now.getTime() - Date.parse(time)) / 1000),
        };
    }
  const gaps = bases.some((b) => b.timelines.some((c) => c.gaps.length > 0));
  return {
    systemId: archive.systemId,
    segmentSize: archive.segmentSize,
    segmentCount: archive.segments.size,
    timelines,
    bases,
    problems,
    newestRecoverable: newest,
    ok: !gaps && problems.length === 0,
  };
}
