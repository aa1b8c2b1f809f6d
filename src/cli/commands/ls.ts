/** `holdfast ls SNAPSHOT [PATH]`: list the files of a snapshot. */
import type { Command } from 'commander';
import { listSnapshot } from '../../app/index.js';
import type { RegisterCommand } from '../command-kit.js';
import { nodeJson, nsToRfc3339, permissionString, snapshotJson } from '../format-output.js';

export const registerLs: RegisterCommand = (program, kit) => {
  program
    .command('ls')
    .description('list files in a snapshot')
    .argument('<snapshot>', 'snapshot id, prefix or "latest"')
    .argument('[path]', 'directory inside the snapshot', '/')
    .option('-l, --long', 'show mode, owner, size and time')
    .option('--no-recursive', 'list only the directory itself')
    .action(
      async (
        ref: string,
        path: string,
        opts: { long?: boolean; recursive: boolean },
        cmd: Command,
      ) => {
        const ctx = kit.context(cmd);
        const repo = await ctx.open();
        const snap = await ctx.snapshot(repo, ref);
        if (ctx.json)
          ctx.emit({ ...snapshotJson(snap), struct_type: 'snapshot', message_type: 'snapshot' });
        else
          ctx.info(
            `snapshot ${snap.id.slice(0, 8)} of [${snap.snapshot.paths.join(' ')}] at ${snap.snapshot.time}:`,
          );
        for await (const item of listSnapshot(repo, snap, path, opts.recursive, ctx.signal)) {
          if (ctx.json) ctx.emit(nodeJson(item.path, item.node));
          else if (opts.long) {
            const n = item.node;
            const size = String(n.size ?? 0).padStart(10);
            const link = n.linkTarget ? ` -> ${n.linkTarget.toString()}` : '';
            ctx.out(
              `${permissionString(n)} ${String(n.user ?? n.uid).padEnd(8)} ${String(n.group ?? n.gid).padEnd(8)} ${size} ${nsToRfc3339(n.mtimeNs).slice(0, 19).replace('T', ' ')} ${item.path}${link}`,
            );
          } else ctx.out(item.path);
        }
      },
    );
};
