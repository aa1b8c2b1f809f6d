/** `holdfast snapshots`: list snapshots, oldest first. */
import type { Command } from 'commander';
import { collect, type RegisterCommand } from '../command-kit.js';
import { snapshotJson, snapshotRow, table } from '../format-output.js';
import { matchesFilter } from '../../engine/index.js';

export const registerSnapshots: RegisterCommand = (program, kit) => {
  program
    .command('snapshots')
    .description('list snapshots')
    .option('--host <host>', 'only snapshots of this host (repeatable)', collect)
    .option('--tag <tags>', 'only snapshots with these tags (repeatable)', collect)
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect)
    .option('--latest <n>', 'only the latest n snapshots per host and paths')
    .action(
      async (
        opts: { host?: string[]; tag?: string[]; path?: string[]; latest?: string },
        cmd: Command,
      ) => {
        const ctx = kit.context(cmd);
        const repo = await ctx.open();
        let list = (await repo.listSnapshots(ctx.signal)).filter((e) =>
          matchesFilter(e, {
            ...(opts.host && { hosts: opts.host }),
            ...(opts.tag && { tags: opts.tag }),
            ...(opts.path && { paths: opts.path }),
          }),
        );
        if (opts.latest) {
          const n = Number(opts.latest);
          const groups = new Map<string, typeof list>();
          for (const e of list) {
            const k = `${e.snapshot.hostname}\0${[...e.snapshot.paths].sort().join('\0')}`;
            groups.set(k, [...(groups.get(k) ?? []), e]);
          }
          list = [...groups.values()].flatMap((g) => g.slice(-n));
        }
        if (ctx.json) return ctx.emit(list.map(snapshotJson));
        const rows = [['ID', 'Time', 'Host', 'Tags', 'Paths']];
        for (const e of list) {
          const s = e.snapshot;
          rows.push([
            e.id.slice(0, 8),
            snapshotRow(s),
            s.hostname,
            (s.tags ?? []).join(','),
            s.paths.join(',') + (s.partial ? ' (partial)' : ''),
          ]);
        }
        ctx.out(table(rows));
        ctx.out(`${list.length} snapshots`);
      },
    );
};
