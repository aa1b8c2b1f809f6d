/** `holdfast pg dump` (pg_dump -Fc into a snapshot) and `holdfast pg restore-dump` (into a new database). */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { runPgDump, runPgRestoreDump } from '../../app/index.js';
import { formatBytes, HoldfastError } from '../../core/index.js';
import { collect, splitTags, type RegisterCommand } from '../command-kit.js';
import {
  dbContext,
  pgConnection,
  pgConnectionOptions,
  stderrForwarder,
  type PgConnectionFlags,
} from './db-context.js';

interface DumpFlags extends PgConnectionFlags {
  all?: boolean;
  tag?: string[];
  hostname?: string;
}

interface RestoreFlags extends Omit<PgConnectionFlags, 'dbname'> {
  dbname: string;
  sourceDb?: string;
  maintenanceDb?: string;
  owner: boolean;
  acl: boolean;
}

export const registerPgDump: RegisterCommand = (pg, kit) => {
  pgConnectionOptions(pg.command('dump'))
    .description(
      'pg_dump -Fc of databases (or --all, with pg_dumpall --globals-only) into a snapshot tagged pg-dump',
    )
    .argument('[databases...]', 'databases to dump (default: -d or PGDATABASE)')
    .option('--all', 'every database that accepts connections, plus roles and tablespaces')
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect)
    .option('--hostname <name>', 'hostname to record (default: this host)')
    .action(async (names: string[], opts: DumpFlags, cmd: Command) => {
      const ctx = dbContext(kit, cmd);
      const databases = opts.all
        ? ('all' as const)
        : names.length > 0
          ? names
          : [opts.dbname ?? ctx.io.env.PGDATABASE].filter((d): d is string => d !== undefined);
      if (opts.all && names.length > 0)
        throw new HoldfastError('USAGE', '--all takes no database names');
      if (databases !== 'all' && databases.length === 0)
        throw new HoldfastError('USAGE', 'name the database to dump', { hint: 'or use --all' });
      const repo = await ctx.open();
      const onStderr = stderrForwarder(ctx);
      // With names given, -d is not the database to dump but where to connect: keep it out.
      const connection = pgConnection(names.length > 0 ? { ...opts, dbname: undefined } : opts);
      const out = await ctx.locked(repo, 'shared', () =>
        runPgDump({
          repo,
          connection: opts.all ? pgConnection(opts) : connection,
          env: ctx.io.env,
          ...(opts.pgBindir !== undefined && { bindir: opts.pgBindir }),
          databases,
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
    });

  pgConnectionOptions(pg.command('restore-dump'), false)
    .description(
      'restore a database from a pg dump snapshot into a new database (createdb + pg_restore)',
    )
    .argument('<snapshot>', 'the dump snapshot ("latest" = the latest pg-dump snapshot)')
    .requiredOption('-d, --dbname <name>', 'the new database (must not exist)')
    .option('--source-db <name>', 'which dumped database, when the snapshot holds several')
    .option('--maintenance-db <name>', 'database createdb connects to (default: postgres)')
    .option('--no-owner', 'do not restore object ownership (pg_restore --no-owner)')
    .option('--no-acl', 'do not restore privileges (pg_restore --no-acl)')
    .action(async (ref: string, opts: RestoreFlags, cmd: Command) => {
      const ctx = dbContext(kit, cmd);
      const repo = await ctx.open();
      const onStderr = stderrForwarder(ctx);
      const out = await ctx.locked(repo, 'shared', async () =>
        runPgRestoreDump({
          repo,
          snapshot: await ctx.snapshot(repo, ref, ref === 'latest' ? { tags: ['pg-dump'] } : {}),
          ...(opts.sourceDb !== undefined && { source: opts.sourceDb }),
          database: opts.dbname,
          connection: pgConnection({ ...opts, dbname: opts.maintenanceDb }),
          env: ctx.io.env,
          ...(opts.pgBindir !== undefined && { bindir: opts.pgBindir }),
          ...(!opts.owner && { noOwner: true }),
          ...(!opts.acl && { noAcl: true }),
          ...(ctx.signal && { signal: ctx.signal }),
          ...(onStderr && { onStderr }),
        }),
      );
      if (ctx.json) return ctx.emit({ source_database: out.source, database: opts.dbname });
      ctx.out(`restored ${out.source} into new database ${opts.dbname}`);
    });
};
