/**
 * Connection options of the MariaDB/MySQL client programs. An option file given with
 * --defaults-file must come first on their command line; a password is passed through the
 * MYSQL_PWD environment variable, never on the command line (where `ps` would show it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { HoldfastError, describeError } from '../../core/index.js';
import type { ToolEnv } from '../postgres/tool-process.js';

export interface MysqlConnection {
  readonly host?: string;
  readonly port?: string;
  readonly user?: string;
  readonly socket?: string;
  readonly defaultsFile?: string;
  /** A file whose first line is the password. */
  readonly passwordFile?: string;
}

export function mysqlConnectionArgs(c: MysqlConnection): string[] {
  return [
    ...(c.defaultsFile !== undefined ? [`--defaults-file=${c.defaultsFile}`] : []),
    ...(c.host !== undefined ? [`--host=${c.host}`] : []),
    ...(c.port !== undefined ? [`--port=${c.port}`] : []),
    ...(c.user !== undefined ? [`--user=${c.user}`] : []),
    ...(c.socket !== undefined ? [`--socket=${c.socket}`] : []),
  ];
}

/** The environment for the client programs: `env`, plus MYSQL_PWD from the password file. */
export async function mysqlEnv(c: MysqlConnection, env: ToolEnv): Promise<ToolEnv> {
  if (c.passwordFile === undefined) return env;
  let text: string;
  try {
    text = await readFile(c.passwordFile, 'utf8');
  } catch (err) {
    throw new HoldfastError(
      'CONFIG_INVALID',
      `cannot read ${c.passwordFile}: ${describeError(err)}`,
    );
  }
  return { ...env, MYSQL_PWD: text.split(/\r?\n/)[0] ?? '' };
}

/** The first of `names` found on PATH (MariaDB's names first), or the last name as a fallback. */
export function findProgram(names: readonly string[], env: ToolEnv): string {
  const dirs = (env.PATH ?? '/usr/bin:/bin').split(delimiter).filter(Boolean);
  for (const name of names)
    for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  return names[names.length - 1]!;
}

/** `name` quoted as a MySQL identifier. */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
