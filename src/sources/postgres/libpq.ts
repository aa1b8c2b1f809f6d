/**
 * Connection options shared by the PostgreSQL client programs (-h -p -U -d, as libpq spells them)
 * and where those programs are. PG* variables reach the programs through the environment the
 * caller passes, unchanged.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PgConnection {
  /** Host name or socket directory (-h). */
  readonly host?: string;
  readonly port?: string;
  readonly user?: string;
  /** Database name or connection string (-d). */
  readonly dbname?: string;
}

/** -h, -p and -U; the database is passed by each caller in that program's own way. */
export function connectionArgs(c: PgConnection): string[] {
  return [
    ...(c.host !== undefined ? ['-h', c.host] : []),
    ...(c.port !== undefined ? ['-p', c.port] : []),
    ...(c.user !== undefined ? ['-U', c.user] : []),
  ];
}

/** A client program: from `bindir` when given, else by name from PATH. */
export function pgProgram(name: string, bindir: string | undefined): string {
  return bindir ? join(bindir, name) : name;
}

/**
 * The directory of server programs (pg_ctl) for a major version. Debian installs them under
 * /usr/lib/postgresql/VERSION/bin, off PATH; without a match, the newest version there, else
 * undefined (use PATH).
 */
export function findServerBinDir(
  version: string | undefined,
  root = '/usr/lib/postgresql',
): string | undefined {
  if (version !== undefined && existsSync(join(root, version, 'bin', 'pg_ctl')))
    return join(root, version, 'bin');
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')));
  } catch {
    return undefined;
  }
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

/** argv run as `user` through runuser when we are root and it is someone else; unchanged otherwise. */
export function asUser(
  argv: readonly string[],
  user: string | undefined,
  currentUser: string,
): string[] {
  if (user === undefined || user === currentUser) return [...argv];
  return ['runuser', '-u', user, '--', ...argv];
}
