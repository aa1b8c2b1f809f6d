/** `holdfast diff A B`: what changed between two snapshots. */
import type { Command } from 'commander';
import { diffSnapshots } from '../../app/index.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerDiff: RegisterCommand = (program, kit) => {
  program
    .command('diff')
    .description('show differences between two snapshots')
    .argument('<snapshot-a>')
    .argument('<snapshot-b>')
    .action(async (a: string, b: string, _o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open();
      const [sa, sb] = [await ctx.snapshot(repo, a), await ctx.snapshot(repo, b)];
      const counts = { '+': 0, '-': 0, M: 0, T: 0, U: 0 };
      if (!ctx.json) ctx.info(`comparing snapshot ${sa.id.slice(0, 8)} to ${sb.id.slice(0, 8)}:`);
      for await (const d of diffSnapshots(repo, sa, sb, ctx.signal)) {
        counts[d.change]++;
        if (ctx.json) ctx.emit({ message_type: 'change', path: d.path, modifier: d.change });
        else ctx.out(`${d.change}    ${d.path}`);
      }
      const stats = {
        added: counts['+'],
        removed: counts['-'],
        changed: counts.M,
        type_changed: counts.T,
        metadata_changed: counts.U,
      };
      if (ctx.json)
        ctx.emit({
          message_type: 'statistics',
          source_snapshot: sa.id,
          target_snapshot: sb.id,
          ...stats,
        });
      else
        ctx.out(
          `\nadded: ${stats.added}  removed: ${stats.removed}  changed: ${stats.changed}  type changed: ${stats.type_changed}  metadata changed: ${stats.metadata_changed}`,
        );
    });
};
