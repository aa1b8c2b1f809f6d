/**
 * `holdfast pg wal-push %p` (archive_command) and `holdfast pg wal-fetch %f %p`
 * (restore_command). Both run as the server's user from the data directory; exit 0 means the
 * file is durable in the repository (push) or written (fetch), anything else is a failure that
 * PostgreSQL retries (push) or reads as "not archived" (fetch).
 */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { fetchWal, pushWal } from '../../app/index.js';
import { collect, splitTags, type RegisterCommand } from '../command-kit.js';
import { Context } from '../context.js';
import { dbContext } from './db-context.js';

/** archive_command and restore_command must not fail on a briefly held lock. */
const DEFAULT_RETRY_LOCK = '2m';

function withLockRetry(ctx: Context): Context {
  if (ctx.flags.retryLock !== undefined) return ctx;
  return new Context(ctx.io, { ...ctx.flags, retryLock: DEFAULT_RETRY_LOCK });
}

export const registerPgWal: RegisterCommand = (pg, kit) => {
  pg.command('wal-push')
    .description(
      'archive_command: store one WAL file (%p) as a snapshot tagged pg-wal; exit 0 once it is durable',
    )
    .argument('<path>', '%p: the WAL file, relative to the data directory')
    .option(
      '--data-dir <dir>',
      'the data directory, for .history files (default: the current directory)',
    )
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect)
    .option('--hostname <name>', 'hostname to record (default: this host)')
    .action(
      async (
        path: string,
        opts: { dataDir?: string; tag?: string[]; hostname?: string },
        cmd: Command,
      ) => {
        const ctx = withLockRetry(dbContext(kit, cmd));
        const repo = await ctx.open();
        const out = await ctx.locked(repo, 'shared', () =>
          pushWal({
            repo,
            path,
            ...(opts.dataDir !== undefined && { dataDir: opts.dataDir }),
            hostname: opts.hostname ?? hostname(),
            tags: splitTags(opts.tag),
            ...(ctx.signal && { signal: ctx.signal }),
          }),
        );
        if (ctx.json) return ctx.emit({ ...out, snapshot_id: out.snapshotId });
        ctx.info(
          out.status === 'archived'
            ? `archived ${out.name} (snapshot ${out.snapshotId.slice(0, 8)})`
            : `${out.name} was already archived with the same content (snapshot ${out.snapshotId.slice(0, 8)})`,
        );
      },
    );

  pg.command('wal-fetch')
    .description(
      'restore_command: write an archived WAL file (%f) to %p; exits 1 when the archive lacks it',
    )
    .argument('<name>', '%f: the WAL file name')
    .argument('<path>', '%p: where to write it, relative to the data directory')
    .option('--system-id <id>', 'the cluster (default: the one in ./global/pg_control)')
    .option('--data-dir <dir>', 'the data directory (default: the current directory)')
    .action(
      async (
        name: string,
        path: string,
        opts: { systemId?: string; dataDir?: string },
        cmd: Command,
      ) => {
        const ctx = withLockRetry(dbContext(kit, cmd));
        const repo = await ctx.open();
        const out = await ctx.locked(repo, 'shared', () =>
          fetchWal({
            repo,
            name,
            destination: path,
            ...(opts.systemId !== undefined && { systemId: opts.systemId }),
            ...(opts.dataDir !== undefined && { dataDir: opts.dataDir }),
            ...(ctx.signal && { signal: ctx.signal }),
          }),
        );
        if (ctx.json) return ctx.emit({ name, bytes: out.bytes, snapshot_id: out.snapshotId });
        ctx.info(`restored ${name} from snapshot ${out.snapshotId.slice(0, 8)}`);
      },
    );
};
