/** `holdfast dump SNAPSHOT PATH`: one file's content to stdout. */
import type { Command } from 'commander';
import { dumpFile } from '../../app/index.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerDump: RegisterCommand = (program, kit) => {
  program
    .command('dump')
    .description('write a file from a snapshot to standard output')
    .argument('<snapshot>')
    .argument('<path>', 'path of the file inside the snapshot')
    .action(async (ref: string, path: string, _o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open();
      await dumpFile(repo, await ctx.snapshot(repo, ref), path, ctx.io.stdout, ctx.signal);
    });
};
