/**
 * Logical PostgreSQL backups: `pg dump` stores pg_dump's custom format (one file per database,
 * /pg_dump/NAME.dump; with --all also /pg_dump/globals.sql from pg_dumpall --globals-only) as one
 * snapshot tagged pg-dump. Any failing program means no snapshot. `pg restore-dump` creates a new
 * database and feeds the archive to pg_restore.
 */
import { HoldfastError } from '../../core/index.js';
import type { Repository, SnapshotEntry } from '../../engine/index.js';
import {
  createDatabaseArgv,
  listDatabasesArgv,
  pgDumpArgv,
  pgDumpGlobalsArgv,
  pgRestoreArgv,
  pgVersionArgv,
  runTool,
  startTool,
  type PgConnection,
  type PgRestoreOptions,
  type ToolEnv,
} from '../../sources/index.js';
import { DB_TAGS, metaOf } from './db-snapshots.js';
import { pipeSnapshotFile } from './snapshot-file.js';
import { saveStreamSnapshot, type SavedSnapshot, type StreamFile } from './stream-snapshot.js';

export const PG_DUMP_DIR = '/pg_dump';
export const GLOBALS_FILE = 'globals.sql';

/** A database name as a file name: "/" and "%" escaped, so any name round-trips. */
export function dumpFileName(database: string, extension: string): string {
  return database.replace(/%/g, '%25').replace(/\//g, '%2F') + extension;
}

export interface PgDumpRequest {
  readonly repo: Repository;
  readonly connection: PgConnection;
  readonly env: ToolEnv;
  readonly bindir?: string;
  /** Databases to dump, or 'all' (every database that accepts connections, plus globals). */
  readonly databases: readonly string[] | 'all';
  readonly hostname: string;
  readonly tags?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onStderr?: (text: string) => void;
}

export async function runPgDump(
  req: PgDumpRequest,
): Promise<SavedSnapshot & { databases: string[] }> {
  const { connection: c, env, bindir, signal } = req;
  const tool = { env, ...(signal && { signal }), ...(req.onStderr && { onStderr: req.onStderr }) };
  const all = req.databases === 'all';
  const databases = all
    ? (await runTool(listDatabasesArgv(c, bindir), tool)).stdout
        .split('\n')
        .filter((l) => l.length > 0)
    : [...req.databases];
  if (databases.length === 0) throw new HoldfastError('USAGE', 'no database to dump');
  const version = (await runTool(pgVersionArgv('pg_dump', bindir), tool)).stdout.trim();
  const stream = (argv: string[]) => (): AsyncIterable<Buffer> =>
    startTool(argv, { ...tool, consequence: 'no snapshot was written' }).output;
  const files: StreamFile[] = [
    ...(all
      ? [{ path: `${PG_DUMP_DIR}/${GLOBALS_FILE}`, content: stream(pgDumpGlobalsArgv(c, bindir)) }]
      : []),
    ...databases.map((db) => ({
      path: `${PG_DUMP_DIR}/${dumpFileName(db, '.dump')}`,
      content: stream(pgDumpArgv(c, db, bindir)),
    })),
  ];
  const saved = await saveStreamSnapshot({
    repo: req.repo,
    files,
    hostname: req.hostname,
    tags: [DB_TAGS['pg-dump'], ...(req.tags ?? [])],
    meta: () => ({
      kind: 'pg-dump',
      format: 'custom',
      databases: JSON.stringify(databases),
      ...(all && { globals: GLOBALS_FILE }),
      pg_dump_version: version,
    }),
    ...(signal && { signal }),
  });
  return { ...saved, databases };
}

/** The databases a dump snapshot holds (from meta). */
export function dumpedDatabases(e: SnapshotEntry): string[] {
  try {
    const list: unknown = JSON.parse(metaOf(e).databases ?? '[]');
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The one database of a snapshot, or `requested`, which it must hold. */
export function pickDumpedDatabase(
  e: SnapshotEntry,
  requested: string | undefined,
  what: string,
): string {
  const dbs = dumpedDatabases(e);
  if (requested !== undefined) {
    if (!dbs.includes(requested))
      throw new HoldfastError(
        'NOT_FOUND',
        `snapshot ${e.id.slice(0, 8)} holds no dump of ${requested}`,
        {
          hint: `it holds: ${dbs.join(', ') || 'nothing'}`,
        },
      );
    return requested;
  }
  if (dbs.length !== 1)
    throw new HoldfastError(
      'USAGE',
      `snapshot ${e.id.slice(0, 8)} holds ${dbs.length} databases (${dbs.join(', ')})`,
      {
        hint: `choose one with ${what}`,
      },
    );
  return dbs[0]!;
}

export interface PgRestoreDumpRequest extends PgRestoreOptions {
  readonly repo: Repository;
  readonly snapshot: SnapshotEntry;
  /** The dumped database to restore (needed when the snapshot holds several). */
  readonly source?: string;
  /** The new database; it must not exist. */
  readonly database: string;
  readonly connection: PgConnection;
  readonly env: ToolEnv;
  readonly bindir?: string;
  readonly signal?: AbortSignal;
  readonly onStderr?: (text: string) => void;
}

export async function runPgRestoreDump(req: PgRestoreDumpRequest): Promise<{ source: string }> {
  const { connection: c, env, bindir, signal } = req;
  if (metaOf(req.snapshot).kind !== 'pg-dump')
    throw new HoldfastError('USAGE', `snapshot ${req.snapshot.id.slice(0, 8)} is not a pg dump`);
  const source = pickDumpedDatabase(req.snapshot, req.source, '--source-db');
  const tool = {
    env,
    errorCode: 'FAILURE' as const,
    ...(signal && { signal }),
    ...(req.onStderr && { onStderr: req.onStderr }),
  };
  await runTool(createDatabaseArgv(c, req.database, bindir), tool);
  const restore = startTool(pgRestoreArgv(c, req.database, req, bindir), {
    ...tool,
    stdin: 'pipe',
    consequence: `database "${req.database}" was created and may be incomplete: drop it before trying again`,
  });
  try {
    await pipeSnapshotFile(
      req.repo,
      req.snapshot,
      `${PG_DUMP_DIR}/${dumpFileName(source, '.dump')}`,
      restore.stdin!,
      signal,
    );
  } catch (err) {
    restore.kill();
    throw err;
  }
  for await (const chunk of restore.output) req.onStderr?.(chunk.toString('utf8'));
  await restore.completed;
  return { source };
}
