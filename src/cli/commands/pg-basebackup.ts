/** `holdfast pg basebackup`: pg_basebackup's tar into a snapshot tagged pg-base. */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { runPgBasebackup } from '../../app/index.js';
import { formatBytes, HoldfastError } from '../../core/index.js';
import { formatLsn } from '../../sources/index.js';
import { collect, splitTags, type RegisterCommand } from '../command-kit.js';
import {
  dbContext,
  pgConnection,
  pgConnectionOptions,
  stderrForwarder,
  type PgConnectionFlags,
} from './db-context.js';

interface Flags extends PgConnectionFlags {
  checkpoint: string;
  tag?: string[];
  hostname?: string;
}

export const registerPgBasebackup: RegisterCommand = (pg, kit) => {
  pgConnectionOptions(pg.command('basebackup'))
    .description('stream a base backup (pg_basebackup -Ft -X fetch) into a snapshot tagged pg-base')
    .option('--checkpoint <mode>', "'fast' or 'spread' (pg_basebackup's default)", 'spread')
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect)
    .option('--hostname <name>', 'hostname to record (default: this host)')
    .action(async (opts: Flags, cmd: Command) => {
      const ctx = dbContext(kit, cmd);
      if (opts.checkpoint !== 'fast' && opts.checkpoint !== 'spread')
        throw new HoldfastError('USAGE', `invalid --checkpoint "${opts.checkpoint}"`, {
          hint: "use 'fast' or 'spread'",
        });
      const repo = await ctx.open();
      const onStderr = stderrForwarder(ctx);
      const out = await ctx.locked(repo, 'shared', () =>
        runPgBasebackup({
          repo,
          connection: pgConnection(opts),
          env: ctx.io.env,
          ...(opts.pgBindir !== undefined && { bindir: opts.pgBindir }),
          checkpoint: opts.checkpoint as 'fast' | 'spread',
          hostname: opts.hostname ?? hostname(),
          tags: splitTags(opts.tag),
          ...(ctx.signal && { signal: ctx.signal }),
          ...(onStderr && { onStderr }),
        }),
      );
      const s = out.snapshot.summary!;
      if (ctx.json) return ctx.emit({ snapshot_id: out.id, meta: out.snapshot.meta, summary: s });
      const f = out.facts;
      ctx.out(
        `base backup ${out.id.slice(0, 8)} saved: system ${f.systemIdentifier}, PostgreSQL ${f.pgVersion}, ` +
          `timeline ${f.timeline}, WAL ${formatLsn(f.startLsn)} (${f.startWal}) to ${formatLsn(f.stopLsn)}`,
      );
      ctx.out(
        `${formatBytes(s.total_bytes_processed)} read, ${formatBytes(s.data_added)} new (${formatBytes(s.data_added_packed)} stored)`,
      );
    });
};
