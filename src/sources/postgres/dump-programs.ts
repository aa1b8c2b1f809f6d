/** argv of the logical dump and restore programs: pg_dump, pg_dumpall, pg_restore, createdb, psql. */
import { connectionArgs, pgProgram, type PgConnection } from './libpq.js';

export function pgDumpArgv(c: PgConnection, database: string, bindir?: string): string[] {
  return [pgProgram('pg_dump', bindir), ...connectionArgs(c), '-Fc', '-d', database];
}

export function pgDumpGlobalsArgv(c: PgConnection, bindir?: string): string[] {
  return [
    pgProgram('pg_dumpall', bindir),
    ...connectionArgs(c),
    ...(c.dbname !== undefined ? ['-l', c.dbname] : []),
    '--globals-only',
  ];
}

/** Lists the databases `--all` dumps: every one that accepts connections, templates excluded. */
export function listDatabasesArgv(c: PgConnection, bindir?: string): string[] {
  return [
    pgProgram('psql', bindir),
    ...connectionArgs(c),
    '-d',
    c.dbname ?? 'postgres',
    '-X',
    '-A',
    '-t',
    '-c',
    'select datname from pg_database where datallowconn and not datistemplate order by 1',
  ];
}

export function createDatabaseArgv(c: PgConnection, name: string, bindir?: string): string[] {
  return [
    pgProgram('createdb', bindir),
    ...connectionArgs(c),
    ...(c.dbname !== undefined ? ['--maintenance-db', c.dbname] : []),
    '--',
    name,
  ];
}

export interface PgRestoreOptions {
  readonly noOwner?: boolean;
  readonly noAcl?: boolean;
}

/** pg_restore reading the archive from standard input into `database`, stopping at the first error. */
export function pgRestoreArgv(
  c: PgConnection,
  database: string,
  options: PgRestoreOptions,
  bindir?: string,
): string[] {
  return [
    pgProgram('pg_restore', bindir),
    ...connectionArgs(c),
    '-d',
    database,
    '--exit-on-error',
    ...(options.noOwner ? ['--no-owner'] : []),
    ...(options.noAcl ? ['--no-acl'] : []),
  ];
}

export function pgVersionArgv(program: string, bindir?: string): string[] {
  return [pgProgram(program, bindir), '--version'];
}
