/**
 * `holdfast copy --from-repo SRC [SNAPSHOT...]`: copy snapshots from SRC into the repository
 * (--repo), skipping those already there. The source password comes from --from-password-file,
 * --from-password-command, or HOLDFAST_FROM_PASSWORD_FILE / _COMMAND / HOLDFAST_FROM_PASSWORD.
 */
import type { Command } from 'commander';
import { openRepository, runCopy, type CopyEvent, type SnapshotEntry } from '../../app/index.js';
import { formatBytes, HoldfastError, shortId } from '../../core/index.js';
import { findSnapshot, matchesFilter, type SnapshotFilter } from '../../engine/index.js';
import { collect, type RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';
import { snapshotRow } from '../format-output.js';
import { readPassword } from '../password.js';
import { spoolDirs } from '../spool-dirs.js';

interface CopyFlags {
  fromRepo?: string;
  fromPasswordFile?: string;
  fromPasswordCommand?: string;
  host?: string[];
  tag?: string[];
  path?: string[];
}

export const registerCopy: RegisterCommand = (program, kit) => {
  program
    .command('copy')
    .description('copy snapshots from another repository into this one')
    .argument('[snapshot...]', 'snapshots to copy (ids, prefixes or "latest"; default all)')
    .option('--from-repo <location>', 'source repository (env HOLDFAST_FROM_REPOSITORY)')
    .option(
      '--from-password-file <file>',
      'password file of the source (env HOLDFAST_FROM_PASSWORD_FILE)',
    )
    .option(
      '--from-password-command <command>',
      'command printing the source password (env HOLDFAST_FROM_PASSWORD_COMMAND)',
    )
    .option('--host <host>', 'only snapshots of this host (repeatable)', collect)
    .option('--tag <tags>', 'only snapshots with these tags (repeatable)', collect)
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect)
    .action(async (refs: string[], opts: CopyFlags, cmd: Command) => {
      const ctx = kit.context(cmd);
      const source = await openSource(ctx, opts);
      const destination = await ctx.open();
      const filter: SnapshotFilter = {
        ...(opts.host && { hosts: opts.host }),
        ...(opts.tag && { tags: opts.tag }),
        ...(opts.path && { paths: opts.path }),
      };
      const outcome = await ctx.locked(source, 'shared', () =>
        ctx.locked(destination, 'shared', async () => {
          const snapshots = select(await source.listSnapshots(ctx.signal), refs, filter);
          return runCopy({
            source,
            destination,
            snapshots,
            spoolDirs: spoolDirs(ctx),
            ...(ctx.signal && { signal: ctx.signal }),
            onEvent: (e) => report(ctx, e),
          });
        }),
      );
      if (ctx.json) {
        ctx.emit({
          message_type: 'summary',
          snapshots_copied: outcome.copied.length,
          snapshots_skipped: outcome.skipped.length,
          copied: outcome.copied,
          skipped: outcome.skipped,
          same_blob_ids: outcome.sameIds,
          blobs_added: outcome.blobsAdded,
          bytes_added: outcome.bytesAdded,
          blobs_read: outcome.reads.blobsRead,
          bytes_read: outcome.reads.bytesRead,
        });
      } else {
        ctx.out(
          `copied ${outcome.copied.length} snapshots, skipped ${outcome.skipped.length} already present; ` +
            `${outcome.blobsAdded} blobs (${formatBytes(outcome.bytesAdded)}) added`,
        );
      }
    });
};

async function openSource(ctx: Context, opts: CopyFlags) {
  const env = ctx.io.env;
  const location = opts.fromRepo ?? env.HOLDFAST_FROM_REPOSITORY;
  if (!location) {
    throw new HoldfastError('USAGE', 'copy needs the source repository', {
      hint: 'pass --from-repo LOCATION or set HOLDFAST_FROM_REPOSITORY',
    });
  }
  // The source has its own password; the destination's variables must never be tried on it.
  const sourceIo = {
    ...ctx.io,
    env: {
      ...env,
      HOLDFAST_PASSWORD_FILE: env.HOLDFAST_FROM_PASSWORD_FILE,
      HOLDFAST_PASSWORD_COMMAND: env.HOLDFAST_FROM_PASSWORD_COMMAND,
      HOLDFAST_PASSWORD: env.HOLDFAST_FROM_PASSWORD,
    },
  };
  const password = await readPassword(
    sourceIo,
    {
      ...(opts.fromPasswordFile && { passwordFile: opts.fromPasswordFile }),
      ...(opts.fromPasswordCommand && { passwordCommand: opts.fromPasswordCommand }),
    },
    'enter password for the source repository: ',
  );
  return openRepository(location, password, await ctx.accessOptions());
}

/** The snapshots named (each resolved within the filter), or every one the filter matches. */
function select(
  all: SnapshotEntry[],
  refs: readonly string[],
  filter: SnapshotFilter,
): SnapshotEntry[] {
  if (refs.length === 0) return all.filter((e) => matchesFilter(e, filter));
  const chosen = new Map<string, SnapshotEntry>();
  for (const ref of refs) {
    const e = findSnapshot(all, ref, filter);
    if (ref !== 'latest' && !matchesFilter(e, filter))
      throw new HoldfastError(
        'NOT_FOUND',
        `snapshot ${shortId(e.id)} does not match --host/--tag/--path`,
      );
    chosen.set(e.id, e);
  }
  return [...chosen.values()];
}

function report(ctx: Context, e: CopyEvent): void {
  const s = e.source;
  const what = `snapshot ${shortId(s.id)} of [${s.snapshot.paths.join(' ')}] at ${snapshotRow(s.snapshot)}`;
  if (ctx.json) {
    const base = { message_type: e.type, source: s.id };
    if (e.type === 'skipped') ctx.emit({ ...base, existing: e.existing });
    if (e.type === 'copied')
      ctx.emit({ ...base, copy: e.copy, blobs_added: e.blobsAdded, bytes_added: e.bytesAdded });
    return;
  }
  if (e.type === 'skipped') ctx.info(`${what}: already copied as ${shortId(e.existing)}`);
  else if (e.type === 'copying')
    ctx.info(`copying ${what}${e.parent ? ` (compared with ${shortId(e.parent)})` : ''}`);
  else
    ctx.info(
      `  saved as ${shortId(e.copy)}: ${e.blobsAdded} blobs, ${formatBytes(e.bytesAdded)} added`,
    );
}
