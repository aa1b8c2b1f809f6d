/** `holdfast repair index`: rebuild the index from the packs. */
import type { Command } from 'commander';
import { repairIndex } from '../../app/index.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerRepair: RegisterCommand = (program, kit) => {
  const repair = program.command('repair').description('repair a damaged repository');
  repair
    .command('index')
    .description('rebuild the index from the pack headers')
    .action(async (_o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open({ cache: false });
      const r = await ctx.locked(repo, 'exclusive', () => repairIndex(repo, ctx.signal));
      for (const u of r.unreadable)
        ctx.warn(`pack ${u.pack} could not be read and is not indexed: ${u.message}`);
      if (ctx.json) ctx.emit({ message_type: 'summary', ...r });
      else
        ctx.out(
          `indexed ${r.blobs} blobs in ${r.packs} packs; wrote ${r.indexesWritten} index files, removed ${r.indexesRemoved} old ones`,
        );
    });
};
