/**
 * Logical MariaDB/MySQL backups: `mysql dump` stores one mariadb-dump file per database
 * (/mysql_dump/NAME.sql) in one snapshot tagged mysql-dump; any failing dump means no snapshot.
 * `mysql restore-dump` creates a new database and replays a dump into it, rewriting the dump's
 * CREATE DATABASE/USE so that it lands under the new name.
 */
import { HoldfastError } from '../../core/index.js';
import type { Repository, SnapshotEntry } from '../../engine/index.js';
import {
  mysqlClientArgv,
  mysqlDumpArgv,
  mysqlEnv,
  quoteIdentifier,
  rewriteDatabase,
  runTool,
  serverVersionFromDump,
  startTool,
  SYSTEM_SCHEMAS,
  type MysqlConnection,
  type ToolEnv,
} from '../../sources/index.js';
import { DB_TAGS, metaOf } from './db-snapshots.js';
import { dumpFileName, pickDumpedDatabase } from './pg-dump.js';
import { snapshotFileContent } from './snapshot-file.js';
import { saveStreamSnapshot, type SavedSnapshot } from './stream-snapshot.js';

export const MYSQL_DUMP_DIR = '/mysql_dump';

export interface MysqlDumpRequest {
  readonly repo: Repository;
  readonly connection: MysqlConnection;
  readonly env: ToolEnv;
  /** Databases, or 'all' (every database but the system schemas). */
  readonly databases: readonly string[] | 'all';
  readonly hostname: string;
  readonly tags?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onStderr?: (text: string) => void;
}

export async function runMysqlDump(
  req: MysqlDumpRequest,
): Promise<SavedSnapshot & { databases: string[] }> {
  const { connection: c, signal } = req;
  const env = await mysqlEnv(c, req.env);
  const tool = { env, ...(signal && { signal }), ...(req.onStderr && { onStderr: req.onStderr }) };
  const databases =
    req.databases === 'all'
      ? (await runTool(mysqlClientArgv(c, env, ['-N', '-B', '-e', 'SHOW DATABASES']), tool)).stdout
          .split('\n')
          .filter((d) => d.length > 0 && !SYSTEM_SCHEMAS.has(d))
      : [...req.databases];
  if (databases.length === 0) throw new HoldfastError('USAGE', 'no database to dump');
  let head = '';
  const saved = await saveStreamSnapshot({
    repo: req.repo,
    files: databases.map((db) => ({
      path: `${MYSQL_DUMP_DIR}/${dumpFileName(db, '.sql')}`,
      content: () =>
        keepHead(
          startTool(mysqlDumpArgv(c, db, env), { ...tool, consequence: 'no snapshot was written' })
            .output,
          (h) => {
            head ||= h;
          },
        ),
    })),
    hostname: req.hostname,
    tags: [DB_TAGS['mysql-dump'], ...(req.tags ?? [])],
    meta: () => {
      const version = serverVersionFromDump(head);
      return {
        kind: 'mysql-dump',
        databases: JSON.stringify(databases),
        ...(version !== undefined && { server_version: version }),
      };
    },
    ...(signal && { signal }),
  });
  return { ...saved, databases };
}

/** Passes the stream through, handing its first 4 KiB to `onHead`. */
async function* keepHead(
  source: AsyncIterable<Buffer>,
  onHead: (head: string) => void,
): AsyncGenerator<Buffer> {
  let head = Buffer.alloc(0);
  let done = false;
  for await (const chunk of source) {
    if (!done) {
      head = Buffer.concat([head, chunk]).subarray(0, 4096);
      if (head.length >= 4096) {
        onHead(head.toString('utf8'));
        done = true;
      }
    }
    yield chunk;
  }
  if (!done) onHead(head.toString('utf8'));
}

export interface MysqlRestoreDumpRequest {
  readonly repo: Repository;
  readonly snapshot: SnapshotEntry;
  readonly source?: string;
  /** The new database; it must not exist. */
  readonly database: string;
  readonly connection: MysqlConnection;
  readonly env: ToolEnv;
  readonly signal?: AbortSignal;
  readonly onStderr?: (text: string) => void;
}

export async function runMysqlRestoreDump(
  req: MysqlRestoreDumpRequest,
): Promise<{ source: string }> {
  const { connection: c, signal } = req;
  if (metaOf(req.snapshot).kind !== 'mysql-dump')
    throw new HoldfastError('USAGE', `snapshot ${req.snapshot.id.slice(0, 8)} is not a mysql dump`);
  const source = pickDumpedDatabase(req.snapshot, req.source, '--source-database');
  const env = await mysqlEnv(c, req.env);
  const tool = {
    env,
    errorCode: 'FAILURE' as const,
    ...(signal && { signal }),
    ...(req.onStderr && { onStderr: req.onStderr }),
  };
  await runTool(
    mysqlClientArgv(c, env, ['-e', `CREATE DATABASE ${quoteIdentifier(req.database)}`]),
    tool,
  );
  const client = startTool(mysqlClientArgv(c, env, ['--binary-mode', '--database', req.database]), {
    ...tool,
    stdin: 'pipe',
    consequence: `database "${req.database}" was created and may be incomplete: drop it before trying again`,
  });
  const input = client.stdin!;
  try {
    const content = snapshotFileContent(
      req.repo,
      req.snapshot,
      `${MYSQL_DUMP_DIR}/${dumpFileName(source, '.sql')}`,
      signal,
    );
    for await (const chunk of rewriteDatabase(content, req.database)) {
      if (input.destroyed) break;
      if (!input.write(chunk))
        await new Promise<void>((resolve) => {
          input.once('drain', resolve);
          input.once('close', resolve);
        });
    }
  } catch (err) {
    client.kill();
    throw err;
  } finally {
    input.end();
  }
  for await (const chunk of client.output) req.onStderr?.(chunk.toString('utf8'));
  await client.completed;
  return { source };
}
