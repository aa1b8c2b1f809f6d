/** `holdfast cat config|snapshot ID|key ID|index ID`: decrypted objects, for debugging. */
import type { Command } from 'commander';
import { HoldfastError } from '../../core/index.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerCat: RegisterCommand = (program, kit) => {
  program
    .command('cat')
    .description('print a decrypted repository object as JSON (config, snapshot ID, key ID)')
    .argument('<kind>', 'config, snapshot or key')
    .argument('[id]')
    .action(async (kind: string, id: string | undefined, _o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open();
      const print = (v: unknown): void => ctx.out(JSON.stringify(v, null, 2));
      switch (kind) {
        case 'config': {
          // The content keys are secrets: show that they exist, not their value.
          const c = repo.config;
          return print({
            ...c,
            chunker: { ...c.chunker, key: '(secret)' },
            blob_id_key: '(secret)',
          });
        }
        case 'snapshot': {
          if (!id) throw new HoldfastError('USAGE', 'cat snapshot needs an id');
          const s = await ctx.snapshot(repo, id);
          return print({ id: s.id, ...s.snapshot });
        }
        case 'key': {
          if (!id) throw new HoldfastError('USAGE', 'cat key needs an id');
          return ctx.out((await repo.store.get('key', id)).toString('utf8'));
        }
        default:
          throw new HoldfastError('USAGE', `cannot cat "${kind}"`, {
            hint: 'use config, snapshot ID or key ID',
          });
      }
    });
};
