/** `holdfast restore SNAPSHOT --target DIR`: restore files with all their metadata. */
import type { Command } from 'commander';
import { runRestore } from '../../app/index.js';
import type { RestoreResult } from '../../engine/index.js';
import { formatBytes, HoldfastError } from '../../core/index.js';
import { ExcludeMatcher } from '../../sources/index.js';
import { collect, type RegisterCommand } from '../command-kit.js';
import { EXIT_CODES } from '../exit-codes.js';
import { spoolDirs } from '../spool-dirs.js';
import { newProgressState, reportsProgress, startProgressReport } from '../progress-line.js';

export const registerRestore: RegisterCommand = (program, kit) => {
  program
    .command('restore')
    .description('restore a snapshot into a directory')
    .argument('<snapshot>', 'snapshot id, prefix or "latest"')
    .requiredOption('-t, --target <dir>', 'directory to restore into')
    .option('-i, --include <pattern>', 'restore only paths matching pattern (repeatable)', collect)
    .option(
      '-e, --exclude <pattern>',
      'do not restore paths matching pattern (repeatable)',
      collect,
    )
    .option('--verify', 'read every restored file back and check it against the snapshot')
    .option('--host <host>', 'for "latest": only snapshots of this host', collect)
    .option('--path <path>', 'for "latest": only snapshots including this path', collect)
    .action(
      async (
        ref: string,
        opts: {
          target: string;
          include?: string[];
          exclude?: string[];
          verify?: boolean;
          host?: string[];
          path?: string[];
        },
        cmd: Command,
      ) => {
        const ctx = kit.context(cmd);
        const repo = await ctx.open();
        const snap = await ctx.snapshot(repo, ref, {
          ...(opts.host && { hosts: opts.host }),
          ...(opts.path && { paths: opts.path }),
        });
        const inc = opts.include?.length ? new ExcludeMatcher(opts.include) : undefined;
        const exc = opts.exclude?.length ? new ExcludeMatcher(opts.exclude) : undefined;
        ctx.info(
          `restoring snapshot ${snap.id.slice(0, 8)} of [${snap.snapshot.paths.join(' ')}] to ${opts.target}`,
        );
        const started = Date.now();
        const progress = newProgressState();
        // A full restore restores what the backup processed: its summary gives the totals.
        const summary = snap.snapshot.summary;
        if (summary && !inc && !exc) {
          progress.totalFiles = summary.total_files_processed;
          progress.totalBytes = summary.total_bytes_processed;
          progress.totalsKnown = true;
        }
        const stop = startProgressReport(ctx, progress);
        let result: RestoreResult;
        try {
          result = await ctx.locked(repo, 'shared', () =>
            runRestore({
              repo,
              snapshot: snap,
              target: opts.target,
              ...(inc && { include: (p: string, d: boolean) => inc.matches(p, d) }),
              ...(exc && { exclude: (p: string, d: boolean) => exc.matches(p, d) }),
              ...(opts.verify && { verify: true }),
              spoolDirs: spoolDirs(ctx),
              onWarning: (message) => ctx.warn(message),
              ...(ctx.signal && { signal: ctx.signal }),
              ...(reportsProgress(ctx) && {
                onProgress: ({ files, bytes, path }) => {
                  progress.filesDone = files;
                  progress.bytesDone = bytes;
                  progress.current.clear();
                  progress.current.add(path);
                },
              }),
            }),
          );
        } finally {
          progress.current.clear();
          stop();
        }
        const seconds = (Date.now() - started) / 1000;
        for (const e of result.errors) {
          if (ctx.json)
            ctx.emit({
              message_type: 'error',
              error: { message: e.message },
              during: 'restore',
              item: e.path,
            });
          else ctx.io.stderr.write(`error: ${e.path}: ${e.message}\n`);
        }
        if (ctx.json)
          ctx.emit({
            message_type: 'summary',
            seconds_elapsed: seconds,
            total_files: result.files + result.dirs,
            files_restored: result.files,
            dirs_restored: result.dirs,
            total_bytes: result.bytes,
            bytes_restored: result.bytes,
            errors: result.errors.length,
          });
        else
          ctx.info(
            `restored ${result.files} files, ${result.dirs} directories, ${formatBytes(result.bytes)} in ${seconds.toFixed(2)}s${opts.verify ? ' (verified)' : ''}`,
          );
        if (result.errors.length > 0) {
          const integrity = result.errors.some((e) => e.integrity);
          if (integrity) kit.setExitCode(EXIT_CODES.INTEGRITY);
          else
            throw new HoldfastError(
              'FAILURE',
              `${result.errors.length} items could not be restored (listed above)`,
            );
        }
      },
    );
};
