/** `holdfast init`: create a repository; never overwrites one. */
import { Option, type Command } from 'commander';
import { createRepository, openRepository } from '../../app/index.js';
import { HoldfastError, parseBytes } from '../../core/index.js';
import { parseCompressionMode, type ChunkerParams } from '../../engine/index.js';
import { objectLockOption } from '../object-lock-flags.js';
import { readPassword } from '../password.js';
import type { RegisterCommand } from '../command-kit.js';

function size(text: string, what: string): number {
  const n = parseBytes(text);
  if (n === undefined)
    throw new HoldfastError('USAGE', `invalid size for ${what}: "${text}"`, {
      hint: 'use e.g. 512K, 1M, 16MiB',
    });
  return n;
}

export const registerInit: RegisterCommand = (program, kit) => {
  program
    .command('init')
    .description('create a new repository')
    .option('--compression <mode>', 'default compression: off, auto or max', 'auto')
    .option('--pack-size <size>', 'target pack size', '16MiB')
    .option('--chunker-min <size>', 'minimum chunk size', '512KiB')
    .option('--chunker-avg <size>', 'average chunk size (power of two)', '1MiB')
    .option('--chunker-max <size>', 'maximum chunk size', '8MiB')
    .option(
      '--copy-chunker-params',
      'use the chunker and blob-id keys of --from-repo, so copies deduplicate',
    )
    .option('--from-repo <location>', 'repository to copy chunker parameters from')
    .option('--from-password-file <file>', 'password file of --from-repo')
    .option(
      '--object-lock-days <n>',
      'lock every object for N days (S3 Object Lock; the bucket is created with it, or must have it)',
    )
    .option('--object-lock-mode <mode>', 'object lock mode: governance or compliance', 'governance')
    // Seconds-long locks, for tests and trials: "20s", "5m".
    .addOption(new Option('--object-lock-period <duration>').hideHelp())
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const ctx = kit.context(cmd);
      const location = ctx.repositoryLocation();
      const password = await readPassword(
        ctx.io,
        ctx.flags,
        'enter password for new repository: ',
        true,
      );
      const chunker: ChunkerParams = {
        minSize: size(String(opts.chunkerMin), '--chunker-min'),
        avgSize: size(String(opts.chunkerAvg), '--chunker-avg'),
        maxSize: size(String(opts.chunkerMax), '--chunker-max'),
      };
      let contentKeysFrom;
      if (opts.copyChunkerParams) {
        const explicit = ['chunkerMin', 'chunkerAvg', 'chunkerMax'].filter(
          (o) => cmd.getOptionValueSource(o) === 'cli',
        );
        if (explicit.length > 0) {
          throw new HoldfastError(
            'USAGE',
            '--copy-chunker-params takes the chunker parameters from --from-repo; do not also give --chunker-min/-avg/-max',
          );
        }
        if (typeof opts.fromRepo !== 'string')
          throw new HoldfastError('USAGE', '--copy-chunker-params needs --from-repo');
        const fromPassword = await readPassword(
          ctx.io,
          typeof opts.fromPasswordFile === 'string' ? { passwordFile: opts.fromPasswordFile } : {},
        );
        contentKeysFrom = (
          await openRepository(opts.fromRepo, fromPassword, { store: await ctx.storeOptions() })
        ).config;
      }
      const repo = await createRepository(location, password, {
        store: await ctx.storeOptions(),
        chunker,
        packSize: size(String(opts.packSize), '--pack-size'),
        compression: parseCompressionMode(String(opts.compression)),
        ...(contentKeysFrom && { contentKeysFrom }),
        ...objectLockOption(opts, cmd),
        ...(ctx.signal && { signal: ctx.signal }),
      });
      if (ctx.json)
        ctx.emit({ message_type: 'initialized', id: repo.config.id, repository: location });
      else if (!ctx.flags.quiet)
        ctx.out(
          `created holdfast repository ${repo.config.id.slice(0, 10)} at ${location}\n\nPlease note that knowledge of your password is required to access\nthe repository. Losing your password means that your data is\nirrecoverably lost.`,
        );
    });
};
