/** `holdfast mysql dump` and `holdfast mysql restore-dump`: MariaDB/MySQL logical backups. */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { runMysqlDump, runMysqlRestoreDump } from '../../app/index.js';
import { formatBytes, HoldfastError } from '../../core/index.js';
import type { MysqlConnection } from '../../sources/index.js';
import { collect, splitTags, type RegisterCommand } from '../command-kit.js';
import { dbContext, stderrForwarder } from './db-context.js';

interface ConnectionFlags {
  host?: string;
  port?: string;
  user?: string;
  socket?: string;
  defaultsFile?: string;
  dbPasswordFile?: string;
}

function connectionOptions(cmd: Command): Command {
  return cmd
    .helpOption('--help', 'display help for command')
    .option(
      '--defaults-file <file>',
      'MariaDB/MySQL option file to read (instead of the usual ones)',
    )
    .option('-h, --host <host>', 'server host')
    .option('-P, --port <port>', 'server TCP port')
    .option('-u, --user <user>', 'user name')
    .option('-S, --socket <path>', 'unix socket')
    .option(
      '--db-password-file <file>',
      "file whose first line is the user's password (passed as MYSQL_PWD)",
    );
}

function connection(f: ConnectionFlags): MysqlConnection {
  return {
    ...(f.host !== undefined && { host: f.host }),
    ...(f.port !== undefined && { port: f.port }),
    ...(f.user !== undefined && { user: f.user }),
    ...(f.socket !== undefined && { socket: f.socket }),
    ...(f.defaultsFile !== undefined && { defaultsFile: f.defaultsFile }),
    ...(f.dbPasswordFile !== undefined && { passwordFile: f.dbPasswordFile }),
  };
}

export const registerMysql: RegisterCommand = (program, kit) => {
  const mysql = program
    .command('mysql')
    .description('MariaDB/MySQL: logical dumps and their restore (docs/databases.md)')
    .option('--config <file>', 'read HOLDFAST_* settings from this file (NAME=VALUE lines)');

  connectionOptions(mysql.command('dump'))
    .description(
      'mariadb-dump --single-transaction --routines --triggers --events of databases into a snapshot tagged mysql-dump',
    )
    .argument('[databases...]', 'databases to dump')
    .option('--all', 'every database except the system schemas')
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect)
    .option('--hostname <name>', 'hostname to record (default: this host)')
    .action(
      async (
        names: string[],
        opts: ConnectionFlags & { all?: boolean; tag?: string[]; hostname?: string },
        cmd: Command,
      ) => {
        const ctx = dbContext(kit, cmd);
        if (opts.all === names.length > 0)
          throw new HoldfastError('USAGE', 'name the databases to dump, or use --all (not both)');
        const repo = await ctx.open();
        const onStderr = stderrForwarder(ctx);
        const out = await ctx.locked(repo, 'shared', () =>
          runMysqlDump({
            repo,
            connection: connection(opts),
            env: ctx.io.env,
            databases: opts.all ? 'all' : names,
            hostname: opts.hostname ?? hostname(),
            tags: splitTags(opts.tag),
            ...(ctx.signal && { signal: ctx.signal }),
            ...(onStderr && { onStderr }),
          }),
        );
        const s = out.snapshot.summary!;
        if (ctx.json)
          return ctx.emit({
            snapshot_id: out.id,
            databases: out.databases,
            meta: out.snapshot.meta,
            summary: s,
          });
        ctx.out(
          `dump ${out.id.slice(0, 8)} saved: ${out.databases.join(', ')}; ${formatBytes(s.total_bytes_processed)} read, ${formatBytes(s.data_added)} new`,
        );
      },
    );

  connectionOptions(mysql.command('restore-dump'))
    .description('restore a database from a mysql dump snapshot under a new name')
    .argument('<snapshot>', 'the dump snapshot ("latest" = the latest mysql-dump snapshot)')
    .requiredOption('--database <name>', 'the new database (must not exist)')
    .option('--source-database <name>', 'which dumped database, when the snapshot holds several')
    .action(
      async (
        ref: string,
        opts: ConnectionFlags & { database: string; sourceDatabase?: string },
        cmd: Command,
      ) => {
        const ctx = dbContext(kit, cmd);
        const repo = await ctx.open();
        const onStderr = stderrForwarder(ctx);
        const out = await ctx.locked(repo, 'shared', async () =>
          runMysqlRestoreDump({
            repo,
            snapshot: await ctx.snapshot(
              repo,
              ref,
              ref === 'latest' ? { tags: ['mysql-dump'] } : {},
            ),
            ...(opts.sourceDatabase !== undefined && { source: opts.sourceDatabase }),
            database: opts.database,
            connection: connection(opts),
            env: ctx.io.env,
            ...(ctx.signal && { signal: ctx.signal }),
            ...(onStderr && { onStderr }),
          }),
        );
        if (ctx.json) return ctx.emit({ source_database: out.source, database: opts.database });
        ctx.out(`restored ${out.source} into new database ${opts.database}`);
      },
    );
};
