/**
 * mariadb-dump (or mysqldump) of one database: `--databases` so that the dump also stands alone
 * (it creates and selects its database), and `--single-transaction` for a consistent InnoDB
 * snapshot without locking. Routines, triggers and events are included.
 */
import type { ToolEnv } from '../postgres/tool-process.js';
import { findProgram, mysqlConnectionArgs, type MysqlConnection } from './mysql-connection.js';

export const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set([
  'information_schema',
  'performance_schema',
  'sys',
  'mysql',
]);

export function mysqlDumpArgv(c: MysqlConnection, database: string, env: ToolEnv): string[] {
  return [
    findProgram(['mariadb-dump', 'mysqldump'], env),
    ...mysqlConnectionArgs(c),
    '--single-transaction',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    '--databases',
    database,
  ];
}

export function mysqlClientArgv(
  c: MysqlConnection,
  env: ToolEnv,
  extra: readonly string[],
): string[] {
  return [findProgram(['mariadb', 'mysql'], env), ...mysqlConnectionArgs(c), ...extra];
}

/** "-- Server version\t10.11.6-MariaDB-0+deb12u1" from a dump's header. */
export function serverVersionFromDump(head: string): string | undefined {
  return /^-- Server version\s+(.+)$/m.exec(head)?.[1]?.trim();
}
