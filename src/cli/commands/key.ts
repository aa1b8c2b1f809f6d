/** `holdfast key list|add|remove|passwd`: several passwords, one master key. */
import type { Command } from 'commander';
import { addKey, changePassword, listKeys, removeKey } from '../../app/index.js';
import { readNewPassword } from '../password.js';
import { table } from '../format-output.js';
import type { RegisterCommand } from '../command-kit.js';

export const registerKey: RegisterCommand = (program, kit) => {
  const key = program.command('key').description('manage the keys (passwords) of a repository');
  key
    .command('list')
    .description('list keys')
    .action(async (_o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const keys = await listKeys(await ctx.open());
      if (ctx.json) return ctx.emit(keys);
      ctx.out(
        table([
          [' ID', 'User', 'Host', 'Created'],
          ...keys.map((k) => [
            `${k.current ? '*' : ' '}${k.id.slice(0, 8)}`,
            k.userName,
            k.hostName,
            k.created.replace('T', ' ').slice(0, 19),
          ]),
        ]),
      );
    });
  key
    .command('add')
    .description('add a key (a new password)')
    .option('--new-password-file <file>', 'file with the new password')
    .action(async (opts: { newPasswordFile?: string }, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open();
      const id = await addKey(repo, await readNewPassword(ctx.io, opts.newPasswordFile));
      if (ctx.json) ctx.emit({ id });
      else ctx.out(`saved new key with ID ${id}`);
    });
  key
    .command('remove <id>')
    .description('remove a key (not the one in use)')
    .action(async (ref: string, _o, cmd: Command) => {
      const ctx = kit.context(cmd);
      const id = await removeKey(await ctx.open(), ref);
      if (ctx.json) ctx.emit({ removed: id });
      else ctx.out(`removed key ${id}`);
    });
  key
    .command('passwd')
    .description('change the password of the key in use')
    .option('--new-password-file <file>', 'file with the new password')
    .action(async (opts: { newPasswordFile?: string }, cmd: Command) => {
      const ctx = kit.context(cmd);
      const repo = await ctx.open();
      const id = await changePassword(repo, await readNewPassword(ctx.io, opts.newPasswordFile));
      if (ctx.json) ctx.emit({ id });
      else ctx.out(`saved new password as key ${id}`);
    });
};
