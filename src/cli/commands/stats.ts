/** `holdfast stats [SNAPSHOT...]`: restore size and deduplicated raw size. */
import type { Command } from 'commander';
import { repositoryStats } from '../../app/index.js';
import { formatBytes } from '../../core/index.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerStats: RegisterCommand = (program, kit) => {
  program
    .command('stats')
    .description('show restore size and deduplicated stored size')
    .argument('[snapshots...]', 'snapshots to count (default: all)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open();
      const all = await repo.listSnapshots(ctx.signal);
      const snaps = refs.length ? await Promise.all(refs.map((r) => ctx.snapshot(repo, r))) : all;
      const s = await repositoryStats(repo, snaps, ctx.signal);
      if (ctx.json) return ctx.emit(s);
      ctx.out(`Snapshots processed:   ${s.snapshots_count}`);
      ctx.out(`Restore size:          ${formatBytes(s.total_size)} in ${s.total_file_count} files`);
      ctx.out(
        `Raw data (deduplicated): ${formatBytes(s.total_uncompressed_size)} in ${s.total_blob_count} blobs`,
      );
      ctx.out(
        `Stored (compressed, encrypted): ${formatBytes(s.total_packed_size)} (ratio ${s.compression_ratio.toFixed(2)}x)`,
      );
    });
};
