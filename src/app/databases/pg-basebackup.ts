/**
 * `pg basebackup`: pg_basebackup's tar streamed into one snapshot (/pg_base/base.tar, tag
 * pg-base) with the cluster's facts in `meta`. Content-defined chunking makes a repeated base
 * backup store only what changed. A failing pg_basebackup writes no snapshot.
 */
import type { Repository } from '../../engine/index.js';
import {
  baseBackupArgv,
  baseBackupFacts,
  baseBackupInspector,
  formatLsn,
  inspectTar,
  startTool,
  type BaseBackupFacts,
  type CheckpointMode,
  type PgConnection,
  type ToolEnv,
} from '../../sources/index.js';
import { DB_TAGS } from './db-snapshots.js';
import { saveStreamSnapshot, type SavedSnapshot } from './stream-snapshot.js';

export const BASE_BACKUP_PATH = '/pg_base/base.tar';

export interface PgBasebackupRequest {
  readonly repo: Repository;
  readonly connection: PgConnection;
  readonly env: ToolEnv;
  readonly bindir?: string;
  readonly checkpoint: CheckpointMode;
  readonly hostname: string;
  readonly tags?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onStderr?: (text: string) => void;
  readonly onBytes?: (n: number) => void;
}

export async function runPgBasebackup(
  req: PgBasebackupRequest,
): Promise<SavedSnapshot & { facts: BaseBackupFacts }> {
  const inspector = baseBackupInspector();
  const argv = baseBackupArgv(req.connection, {
    ...(req.bindir !== undefined && { bindir: req.bindir }),
    checkpoint: req.checkpoint,
    label: 'holdfast',
  });
  let facts: BaseBackupFacts | undefined;
  let stderr = (): string => '';
  const saved = await saveStreamSnapshot({
    repo: req.repo,
    files: [
      {
        path: BASE_BACKUP_PATH,
        content: () => {
          // Messages in English: the end point is read from them.
          const proc = startTool(argv, {
            env: { ...req.env, LC_MESSAGES: 'C' },
            consequence: 'no snapshot was written',
            ...(req.signal && { signal: req.signal }),
            ...(req.onStderr && { onStderr: req.onStderr }),
          });
          stderr = () => proc.stderr();
          return inspectTar(proc.output, inspector);
        },
      },
    ],
    hostname: req.hostname,
    tags: [DB_TAGS['pg-base'], ...(req.tags ?? [])],
    meta: () => {
      facts = baseBackupFacts(inspector, stderr());
      return {
        kind: 'pg-base',
        system_identifier: facts.systemIdentifier,
        pg_version: facts.pgVersion,
        timeline: String(facts.timeline),
        start_lsn: formatLsn(facts.startLsn),
        stop_lsn: formatLsn(facts.stopLsn),
        start_wal: facts.startWal,
        stop_wal: facts.stopWal,
        wal_segment_size: String(facts.segmentSize),
        ...(facts.startTime && { backup_start_time: facts.startTime }),
      };
    },
    ...(req.signal && { signal: req.signal }),
    ...(req.onBytes && { onBytes: req.onBytes }),
  });
  return { ...saved, facts: facts! };
}
