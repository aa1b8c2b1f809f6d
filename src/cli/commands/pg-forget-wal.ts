/** `holdfast pg forget-wal`: forget WAL older than the oldest remaining base backup. */
import type { Command } from 'commander';
import { runForgetWal } from '../../app/index.js';
import type { RegisterCommand } from '../command-kit.js';
import { dbContext } from './db-context.js';
import { pruneAndReport } from './prune.js';

export const registerPgForgetWal: RegisterCommand = (pg, kit) => {
  pg.command('forget-wal')
    .description(
      'forget WAL snapshots older than the start of the oldest remaining base backup (run after "forget --tag pg-base ..."); history files are kept',
    )
    .option('--system-id <id>', 'the cluster, when the repository holds several')
    .option('-n, --dry-run', 'only show what would be forgotten')
    .option('--prune', 'run prune afterwards when snapshots were removed')
    .option('--max-unused <percent>', 'with --prune: tolerated unused share', '5%')
    .action(
      async (
        opts: { systemId?: string; dryRun?: boolean; prune?: boolean; maxUnused: string },
        cmd: Command,
      ) => {
        const ctx = dbContext(kit, cmd);
        const repo = await ctx.open();
        const out = await ctx.locked(repo, 'shared', () =>
          runForgetWal({
            repo,
            ...(opts.systemId !== undefined && { systemId: opts.systemId }),
            ...(opts.dryRun && { dryRun: true }),
            ...(ctx.signal && { signal: ctx.signal }),
          }),
        );
        if (ctx.json)
          ctx.emit({
            keep_from: out.keepFrom,
            oldest_base_backup: out.oldestBase.entry.id,
            removed: out.removed.map((e) => ({ id: e.id, wal_name: e.snapshot.meta?.wal_name })),
            dry_run: out.dryRun,
          });
        else
          ctx.out(
            `oldest base backup ${out.oldestBase.entry.id.slice(0, 8)} needs WAL from ${out.keepFrom}: ` +
              `${out.dryRun ? 'would forget' : 'forgot'} ${out.removed.length} older WAL snapshots`,
          );
        if (opts.prune && out.removed.length > 0)
          await pruneAndReport(ctx, {
            maxUnused: opts.maxUnused,
            ...(opts.dryRun && { dryRun: true }),
          });
      },
    );
};
