/**
 * A restored PostgreSQL server on this machine: started with pg_ctl (as the data directory's
 * owner), watched through its unix socket with psql and through its log, until recovery reaches
 * its target.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HoldfastError, throwIfAborted } from '../../core/index.js';
import { asUser, pgProgram } from './libpq.js';
import type { TargetAction } from './recovery-settings.js';
import { runTool, type ToolEnv } from './tool-process.js';

export interface LocalServer {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
  /** Where pg_ctl and psql are (undefined: PATH). */
  readonly bindir: string | undefined;
  /** The data directory's owner: pg_ctl runs as this user. */
  readonly owner: string | undefined;
  readonly currentUser: string;
  /** Database user psql connects as (default: the OS user it runs as). */
  readonly dbUser?: string;
  readonly env: ToolEnv;
  readonly logFile: string;
}

export async function startServer(s: LocalServer, signal?: AbortSignal): Promise<void> {
  await runTool(
    asUser(
      [pgProgram('pg_ctl', s.bindir), '-D', s.dataDir, '-l', s.logFile, '-W', 'start'],
      s.owner,
      s.currentUser,
    ),
    { env: s.env, errorCode: 'FAILURE', ...(signal && { signal }) },
  );
}

/** One query's result (unaligned, fields split on "|"), or undefined while the server refuses. */
export async function queryServer(s: LocalServer, sql: string): Promise<string[] | undefined> {
  const argv = [
    pgProgram('psql', s.bindir),
    '-X',
    '-A',
    '-t',
    '-q',
    '-h',
    s.socketDir,
    '-p',
    String(s.port),
    '-d',
    'postgres',
    ...(s.dbUser !== undefined ? ['-U', s.dbUser] : []),
    '-c',
    sql,
  ];
  try {
    const { stdout } = await runTool(asUser(argv, s.owner, s.currentUser), { env: s.env });
    return stdout.trim().split('|');
  } catch {
    return undefined;
  }
}

/** The postmaster's pid from postmaster.pid, when it is running. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export type RecoveryState = 'promoted' | 'paused' | 'shutdown';

export interface RecoveryOutcome {
  readonly state: RecoveryState;
  /** Last WAL position replayed (recovery) — absent after a shutdown. */
  readonly replayLsn?: string;
  /** Commit time of the last transaction replayed. */
  readonly lastTransactionTime?: string;
  /** Timeline the server now writes (promoted) or replays. */
  readonly timeline?: number;
  /** The server log's lines about where recovery stopped. */
  readonly logLines: readonly string[];
}

const INTERESTING =
  /recovery stopping|last completed transaction|selected new timeline|consistent recovery state|redo done|archive recovery complete|recovery has paused|pausing at the end of recovery|starting point-in-time recovery|FATAL|PANIC/;

async function logLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => INTERESTING.test(l));
  } catch {
    return [];
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until recovery is over: promoted (also the end of a `latest` recovery), paused at the
 * target, or — for `shutdown` — the server stopped after reaching it. A server that stops
 * otherwise (target not reached, a FATAL error) is a FAILURE with the log's last lines.
 */
export async function waitForRecovery(
  s: LocalServer,
  action: TargetAction,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RecoveryOutcome> {
  const started = Date.now();
  let seenRunning = false;
  for (;;) {
    throwIfAborted(signal);
    if (Date.now() - started > timeoutMs)
      throw new HoldfastError('FAILURE', `recovery did not finish within ${timeoutMs / 1000}s`, {
        hint: `see ${s.logFile}; the server is still running`,
      });
    const pid = await postmasterPid(s.dataDir);
    if (pid === undefined) {
      if (!seenRunning && Date.now() - started < 15_000) {
        await sleep(200);
        continue;
      }
      const lines = await logLines(s.logFile);
      if (action === 'shutdown' && lines.some((l) => /recovery stopping/.test(l)))
        return { state: 'shutdown', logLines: lines };
      throw new HoldfastError(
        'FAILURE',
        `the restored server stopped during recovery: ${lines.slice(-3).join(' | ') || 'see its log'}`,
        { hint: `read ${s.logFile}` },
      );
    }
    seenRunning = true;
    const row = await queryServer(
      s,
      "select pg_is_in_recovery(), case when pg_is_in_recovery() then pg_get_wal_replay_pause_state() else '' end",
    );
    if (row) {
      const [inRecovery, pause] = row;
      if (inRecovery === 'f') return details(s, 'promoted');
      if (action === 'pause' && pause === 'paused') return details(s, 'paused');
    }
    await sleep(300);
  }
}

async function details(s: LocalServer, state: RecoveryState): Promise<RecoveryOutcome> {
  const row = await queryServer(
    s,
    'select pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp(), ' +
      'case when pg_is_in_recovery() then null else pg_walfile_name(pg_current_wal_lsn()) end',
  );
  const [lsn, time, walfile] = row ?? [];
  const fromLog = await logLines(s.logFile);
  const newTimeline = fromLog
    .map((l) => /selected new timeline ID: (\d+)/.exec(l)?.[1])
    .filter((x) => x !== undefined)
    .at(-1);
  const timeline = walfile
    ? parseInt(walfile.slice(0, 8), 16)
    : newTimeline !== undefined
      ? Number(newTimeline)
      : undefined;
  return {
    state,
    ...(lsn && { replayLsn: lsn }),
    ...(time && { lastTransactionTime: time }),
    ...(timeline !== undefined && { timeline }),
    logLines: fromLog,
  };
}
