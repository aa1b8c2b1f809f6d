/** `holdfast check [--read-data | --read-data-subset N%]`: verify the repository. */
import type { Command } from 'commander';
import { checkRepository } from '../../app/index.js';
import { HoldfastError } from '../../core/index.js';
import type { RegisterCommand } from '../command-kit.js';
import { EXIT_CODES } from '../exit-codes.js';
import { spoolDirs } from '../spool-dirs.js';

function subset(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const f = m ? Number(m[1]) / 100 : NaN;
  if (!(f > 0 && f <= 1))
    throw new HoldfastError('USAGE', `invalid --read-data-subset "${text}"`, {
      hint: 'use a percentage such as 10%',
    });
  return f;
}

export const registerCheck: RegisterCommand = (program, kit) => {
  program
    .command('check')
    .description('check the repository for errors')
    .option('--read-data', 'also read, decrypt and verify all data')
    .option('--read-data-subset <n%>', 'read and verify this share of the packs')
    .action(async (opts: { readData?: boolean; readDataSubset?: string }, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open({ cache: false });
      const fraction = opts.readDataSubset ? subset(opts.readDataSubset) : undefined;
      ctx.info(
        'checking index, packs, snapshots and trees' +
          (opts.readData || fraction ? ', reading data' : ''),
      );
      const r = await ctx.locked(repo, 'shared', () =>
        checkRepository({
          repo,
          readData: opts.readData === true || fraction !== undefined,
          ...(fraction !== undefined && { readDataSubset: fraction }),
          spoolDirs: spoolDirs(ctx),
          onWarning: (message) => ctx.warn(message),
          ...(ctx.signal && { signal: ctx.signal }),
        }),
      );
      if (ctx.json) {
        ctx.emit({
          message_type: 'summary',
          num_errors: r.errors.length,
          errors: r.errors,
          warnings: r.warnings,
          affected: r.affected,
          snapshots: r.snapshots,
          packs_read: r.packsRead,
          blobs_checked: r.blobsChecked,
        });
      } else {
        for (const w of r.warnings) ctx.warn(`${w.object}: ${w.message}`);
        for (const e of r.errors) ctx.io.stderr.write(`error: ${e.object}: ${e.message}\n`);
        if (r.affected.length)
          ctx.io.stderr.write(`damage affects:\n${r.affected.map((a) => `  ${a}`).join('\n')}\n`);
        ctx.info(
          `${r.snapshots} snapshots checked${r.packsRead ? `, ${r.packsRead} packs and ${r.blobsChecked} blobs read` : ''}`,
        );
        ctx.out(r.errors.length ? `check found ${r.errors.length} errors` : 'no errors were found');
      }
      if (r.errors.length) kit.setExitCode(EXIT_CODES.INTEGRITY);
    });
};
