/**
 * What the database commands share: `--config FILE` (repository settings for archive_command
 * and restore_command, which run as the server's user with a bare environment), libpq-style
 * connection flags, and forwarding of the client programs' standard error.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { HoldfastError, describeError } from '../../core/index.js';
import type { PgConnection } from '../../sources/index.js';
import type { CommandKit } from '../command-kit.js';
import { Context } from '../context.js';

/** Variables a config file may set: holdfast's own and libpq's. */
const ALLOWED = /^(HOLDFAST_|PG)[A-Z0-9_]*$/;

/**
 * Parses a config file: `NAME=VALUE` lines (an `export ` prefix and single or double quotes
 * allowed, `#` comments). Values are never echoed: they may be secrets.
 */
export function parseConfigFile(text: string, file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new HoldfastError('CONFIG_INVALID', `${file}:${i + 1}: expected NAME=VALUE`);
    const [, name, rawValue] = m as unknown as [string, string, string];
    if (!ALLOWED.test(name))
      throw new HoldfastError(
        'CONFIG_INVALID',
        `${file}:${i + 1}: ${name} is not a HOLDFAST_* or PG* variable`,
      );
    const quoted = /^(['"])(.*)\1$/.exec(rawValue);
    vars[name] = quoted ? quoted[2]! : rawValue;
  });
  return vars;
}

export interface ConfigFlags {
  readonly config?: string;
}

/** The config file's variables (empty without --config). */
export function configVariables(flags: ConfigFlags): Record<string, string> {
  if (flags.config === undefined) return {};
  let text: string;
  try {
    text = readFileSync(flags.config, 'utf8');
  } catch (err) {
    throw new HoldfastError(
      'CONFIG_INVALID',
      `cannot read config file ${flags.config}: ${describeError(err)}`,
      {
        hint: 'it must be readable by the user running holdfast (for archive_command: the server user)',
      },
    );
  }
  return parseConfigFile(text, flags.config);
}

/**
 * The Context of a database command. Precedence: command-line flags, then the --config file,
 * then the environment.
 */
export function dbContext(kit: CommandKit, cmd: Command): Context {
  const base = kit.context(cmd);
  const vars = configVariables(base.flags as ConfigFlags);
  if (Object.keys(vars).length === 0) return base;
  return new Context({ ...base.io, env: { ...base.io.env, ...vars } }, base.flags);
}

export interface PgConnectionFlags {
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly username?: string | undefined;
  readonly dbname?: string | undefined;
  readonly pgBindir?: string | undefined;
}

/** -h -p -U -d as pg_dump and psql have them (-h no longer means --help here). */
export function pgConnectionOptions(cmd: Command, withDbname = true): Command {
  cmd
    .helpOption('--help', 'display help for command')
    .option('-h, --host <host>', 'database server host or socket directory (PGHOST)')
    .option('-p, --port <port>', 'database server port (PGPORT)')
    .option('-U, --username <user>', 'database user name (PGUSER)');
  if (withDbname)
    cmd.option('-d, --dbname <name>', 'database name or connection string (PGDATABASE)');
  return cmd.option('--pg-bindir <dir>', 'directory of the PostgreSQL programs (default: PATH)');
}

export function pgConnection(f: PgConnectionFlags): PgConnection {
  return {
    ...(f.host !== undefined && { host: f.host }),
    ...(f.port !== undefined && { port: f.port }),
    ...(f.username !== undefined && { user: f.username }),
    ...(f.dbname !== undefined && { dbname: f.dbname }),
  };
}

/** Forwards a client program's standard error unless --quiet or --json. */
export function stderrForwarder(ctx: Context): ((text: string) => void) | undefined {
  if (ctx.flags.quiet || ctx.json) return undefined;
  return (text) => {
    ctx.io.stderr.write(text);
  };
}
