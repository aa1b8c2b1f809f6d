/**
 * `pg restore`: point-in-time recovery. Picks the base backup for the target on its own (the
 * latest that finished before the target and lies on the target timeline's history), unpacks it
 * into an empty directory (mode 0700, owned by the server's user), and writes the recovery
 * settings: restore_command fetching WAL from the repository, the target, recovery.signal.
 * Starting the server and waiting for the target is the caller's next step (local-server).
 */
import { appendFile, chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, HoldfastError } from '../../core/index.js';
import { findSnapshot, type Repository, type SnapshotEntry } from '../../engine/index.js';
import {
  chownTree,
  parseLsn,
  prepareDataDirectory,
  recoveryConfLines,
  startTool,
  tarExtractArgv,
  type OsUser,
  type RecoveryTarget,
  type TargetAction,
  type ToolEnv,
} from '../../sources/index.js';
import { BASE_BACKUP_PATH } from './pg-basebackup.js';
import { pipeSnapshotFile } from './snapshot-file.js';
import { loadWalArchive, type BaseBackup, type WalArchive } from './wal-archive.js';
import { baseFitsPath, timelinePath } from './wal-continuity.js';

export interface PgRestoreRequest {
  readonly repo: Repository;
  readonly targetDir: string;
  readonly target: RecoveryTarget;
  readonly action: TargetAction;
  /** recovery_target_timeline: 'latest' (default), 'current' or a number. */
  readonly timeline: string;
  /** A base backup to use instead of choosing one ("latest", an id or a prefix). */
  readonly base?: string;
  readonly systemId?: string;
  /** restore_command for the cluster (PostgreSQL substitutes %f and %p). */
  readonly restoreCommand: (systemId: string | undefined) => string;
  /** The server's OS user, when we run as root and must hand the files over. */
  readonly owner?: OsUser;
  readonly port?: number;
  readonly socketDirectory?: string;
  readonly archiveOff?: boolean;
  readonly env: ToolEnv;
  readonly signal?: AbortSignal;
}

export interface PgRestoreOutcome {
  readonly base: BaseBackup;
  readonly systemId: string | undefined;
  readonly pgVersion: string | undefined;
  /** The lines appended to postgresql.auto.conf. */
  readonly settings: string;
  /** Configuration files the base backup lacked and that were written with minimal content. */
  readonly configWritten: readonly string[];
}

/** The numeric timeline recovery will follow, for choosing the base backup. */
function targetTimeline(timeline: string, archive: WalArchive): number | 'current' {
  if (timeline === 'current') return 'current';
  if (timeline === 'latest')
    return Math.max(1, ...archive.histories.keys(), ...archive.bases.map((b) => b.timeline));
  const n = Number(timeline);
  if (!Number.isInteger(n) || n < 1)
    throw new HoldfastError('USAGE', `invalid --timeline "${timeline}"`, {
      hint: "use 'latest', 'current' or a timeline number",
    });
  return n;
}

/** "2024-05-01 13:00:00+02", RFC 3339, ...: a zone is required, the server's may differ from ours. */
export function parseTargetTime(text: string): Date {
  const t = text
    .trim()
    .replace(' ', 'T')
    .replace(/([+-]\d\d)$/, '$1:00');
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(t))
    throw new HoldfastError('USAGE', `--target-time "${text}" has no time zone`, {
      hint: 'add one, e.g. "2024-05-01 13:00:00+00" or 2024-05-01T13:00:00Z',
    });
  const d = new Date(t);
  if (Number.isNaN(d.getTime()))
    throw new HoldfastError('USAGE', `invalid --target-time "${text}"`);
  return d;
}

export function chooseBaseBackup(
  archive: WalArchive,
  target: RecoveryTarget,
  timeline: string,
  base: string | undefined,
): BaseBackup {
  if (base !== undefined) {
    const entry = findSnapshot(
      archive.bases.map((b) => b.entry),
      base,
      {},
    );
    return archive.bases.find((b) => b.entry.id === entry.id)!;
  }
  const tli = targetTimeline(timeline, archive);
  const path = tli === 'current' ? undefined : timelinePath(tli, archive.histories);
  if (tli !== 'current' && !path)
    throw new HoldfastError('NOT_FOUND', `timeline ${tli} has no history file in the archive`);
  const fits = (b: BaseBackup): boolean => !path || baseFitsPath(b.timeline, b.stopLsn, path);
  const before = (b: BaseBackup): boolean => {
    if (target.kind === 'time')
      return Date.parse(b.endTime) <= parseTargetTime(target.value).getTime();
    if (target.kind === 'lsn') return b.stopLsn <= parseLsn(target.value);
    return true; // xid, name, latest, immediate: the newest base backup
  };
  const candidates = archive.bases.filter((b) => fits(b) && before(b));
  const chosen = candidates[candidates.length - 1];
  if (!chosen)
    throw new HoldfastError(
      'NOT_FOUND',
      archive.bases.length === 0
        ? 'the repository holds no base backup of this cluster'
        : `no base backup finished before the target${tli === 'current' ? '' : ` on timeline ${tli}`}`,
      { hint: 'list them with "holdfast snapshots --tag pg-base", or pick one with --base' },
    );
  return chosen;
}

export async function runPgRestore(req: PgRestoreRequest): Promise<PgRestoreOutcome> {
  const { repo, signal } = req;
  const entries = await repo.listSnapshots(signal);
  const archive = await loadWalArchive(repo, entries, req.systemId, signal);
  const base = chooseBaseBackup(archive, req.target, req.timeline, req.base);
  await prepareDataDirectory(req.targetDir);
  await extract(repo, base.entry, req.targetDir, req.env, signal);
  const settings = recoveryConfLines(
    {
      restoreCommand: req.restoreCommand(archive.systemId),
      target: req.target,
      action: req.action,
      timeline: req.timeline,
      ...(req.port !== undefined && { port: req.port }),
      ...(req.socketDirectory !== undefined && { socketDirectory: req.socketDirectory }),
      ...(req.archiveOff && { archiveOff: true }),
    },
    `added by holdfast pg restore from base backup ${base.entry.id.slice(0, 8)}`,
  );
  const configWritten = await writeMissingConfig(req.targetDir);
  await appendFile(join(req.targetDir, 'postgresql.auto.conf'), '\n' + settings, { mode: 0o600 });
  await writeFile(join(req.targetDir, 'recovery.signal'), '', { mode: 0o600 });
  await rm(join(req.targetDir, 'standby.signal'), { force: true });
  if (req.owner) await chownTree(req.targetDir, req.owner.uid, req.owner.gid);
  await chmod(req.targetDir, 0o700);
  const meta = base.entry.snapshot.meta ?? {};
  return { base, systemId: archive.systemId, pgVersion: meta.pg_version, settings, configWritten };
}

/**
 * Debian and Ubuntu keep postgresql.conf, pg_hba.conf and pg_ident.conf in /etc/postgresql, so
 * their base backups lack them and the server would not start. Minimal ones are written instead
 * — never a copy of /etc, whose data_directory would point at the live cluster.
 */
const MINIMAL_CONFIG: Readonly<Record<string, string>> = {
  'postgresql.conf':
    '# Written by holdfast pg restore: the base backup held no postgresql.conf.\n' +
    '# Defaults apply; the recovery settings are in postgresql.auto.conf.\n',
  'pg_hba.conf':
    '# Written by holdfast pg restore: the base backup held no pg_hba.conf.\n' +
    'local all all peer\n',
  'pg_ident.conf': '# Written by holdfast pg restore: the base backup held no pg_ident.conf.\n',
};

async function writeMissingConfig(dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [name, text] of Object.entries(MINIMAL_CONFIG)) {
    try {
      await writeFile(join(dir, name), text, { mode: 0o600, flag: 'wx' });
      written.push(name);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
  return written;
}

async function extract(
  repo: Repository,
  entry: SnapshotEntry,
  dir: string,
  env: ToolEnv,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tar = startTool(tarExtractArgv(dir), {
    env,
    stdin: 'pipe',
    errorCode: 'FAILURE',
    ...(signal && { signal }),
  });
  try {
    await pipeSnapshotFile(repo, entry, BASE_BACKUP_PATH, tar.stdin!, signal);
  } catch (err) {
    tar.kill();
    throw err;
  }
  for await (const chunk of tar.output) void chunk; // tar prints nothing on success
  await tar.completed;
}
