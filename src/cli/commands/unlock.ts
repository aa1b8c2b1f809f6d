/** `holdfast unlock`: remove stale locks (or all with --remove-all). */
import type { Command } from 'commander';
import { removeLocks } from '../../app/index.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerUnlock: RegisterCommand = (program, kit) => {
  program
    .command('unlock')
    .description('remove stale locks (held by dead processes or not refreshed for 30 minutes)')
    .option('--remove-all', 'remove all locks, even those of running operations')
    .action(async (opts: { removeAll?: boolean }, cmd: Command) => {
      const ctx = kit.context(cmd);
      const n = await removeLocks(await ctx.open(), opts.removeAll === true);
      if (ctx.json) ctx.emit({ removed: n });
      else ctx.out(`removed ${n} locks`);
    });
};
