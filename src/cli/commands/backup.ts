/** `holdfast backup`: files, stdin or a command's output into a new snapshot. */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runBackup, scanTargets, type BackupOutcome, type ScanTotals } from '../../app/index.js';
import { formatBytes, HoldfastError } from '../../core/index.js';
import type { BackupEvent } from '../../engine/index.js';
import { ExcludeMatcher, readExcludeFile } from '../../sources/index.js';
import { collect, splitTags, type RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';
import { EXIT_PARTIAL } from '../exit-codes.js';
import { spoolDirs } from '../spool-dirs.js';
import {
  newProgressState,
  reportsProgress,
  startProgressReport,
  type ProgressState,
} from '../progress-line.js';

interface BackupFlags {
  tag?: string[];
  host?: string;
  time?: string;
  exclude?: string[];
  excludeFile?: string[];
  excludeCaches?: boolean;
  oneFileSystem?: boolean;
  dryRun?: boolean;
  stdin?: boolean;
  stdinFilename: string;
  stdinFromCommand?: boolean;
  force?: boolean;
}

/** Accepts RFC 3339 or restic's "2006-01-02 15:04:05" (local time). */
export function parseTime(text: string): Date {
  const d = new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text) ? text.replace(' ', 'T') : text);
  if (Number.isNaN(d.getTime()))
    throw new HoldfastError('USAGE', `invalid --time "${text}"`, {
      hint: 'use "2024-05-01 13:00:00" or an RFC 3339 time',
    });
  return d;
}

export const registerBackup: RegisterCommand = (program, kit) => {
  program
    .command('backup')
    .description("create a snapshot of files, of stdin, or of a command's output")
    .argument(
      '[paths...]',
      'files and directories to back up (with --stdin-from-command: the command)',
    )
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect)
    .option('--host <name>', 'hostname to record (default: this host)')
    .option('--time <time>', 'snapshot time instead of now (for imports)')
    .option('-e, --exclude <pattern>', 'exclude paths matching pattern (repeatable)', collect)
    .option('--exclude-file <file>', 'read exclude patterns from file (repeatable)', collect)
    .option('--exclude-caches', 'exclude directories holding a valid CACHEDIR.TAG')
    .option('-x, --one-file-system', 'do not cross filesystem boundaries')
    .option('-n, --dry-run', 'do everything but write to the repository')
    .option('--stdin', 'read the content to back up from standard input')
    .option('--stdin-filename <name>', 'file name for --stdin / --stdin-from-command', 'stdin')
    .option(
      '--stdin-from-command',
      'back up the standard output of the command given after --; a non-zero exit writes no snapshot',
    )
    .option('-f, --force', 'read every file again, ignoring the parent snapshot')
    .action(async (paths: string[], opts: BackupFlags, cmd: Command) => {
      const ctx = kit.context(cmd);
      if (opts.stdin && opts.stdinFromCommand)
        throw new HoldfastError('USAGE', '--stdin and --stdin-from-command exclude each other');
      if (opts.stdin && paths.length > 0)
        throw new HoldfastError('USAGE', '--stdin takes no paths');
      const patterns = [...(opts.exclude ?? [])];
      for (const f of opts.excludeFile ?? []) patterns.push(...(await readExcludeFile(f)));
      const matcher = patterns.length ? new ExcludeMatcher(patterns) : undefined;
      const exclude = matcher
        ? (p: Buffer, isDir: boolean): boolean => matcher.matches(p, isDir)
        : undefined;
      const repo = await ctx.open();
      // The walk cache lives beside the metadata cache, for local repositories too: it is this
      // machine's note of its own directories, not a copy of repository objects.
      const walkCacheRoot = ctx.cacheRoot();
      const progress = newProgressState();
      const totals: ScanTotals = { files: 0, bytes: 0, done: false };
      // The scan only feeds the progress line's totals: without a progress line (quiet, or
      // output not a terminal) it would walk the whole tree a second time for nothing.
      const scanning =
        opts.stdin || opts.stdinFromCommand || !reportsProgress(ctx)
          ? undefined
          : scanTargets(paths, exclude, totals, ctx.signal).catch(() => undefined);
      const stop = startProgressReport(ctx, progress, () => {
        progress.totalFiles = totals.files;
        progress.totalBytes = totals.bytes;
        progress.totalsKnown = totals.done;
      });
      let outcome: BackupOutcome;
      try {
        outcome = await ctx.locked(repo, 'shared', () =>
          runBackup({
            repo,
            paths,
            hostname: opts.host ?? hostname(),
            tags: splitTags(opts.tag),
            ...(opts.time && { time: parseTime(opts.time) }),
            ...(exclude && { exclude, excludePatterns: patterns }),
            ...(opts.excludeCaches && { excludeCaches: true }),
            ...(opts.oneFileSystem && { oneFileSystem: true }),
            ...(opts.dryRun && { dryRun: true }),
            ...(opts.force && { parent: 'none' as const }),
            ...(walkCacheRoot !== undefined && {
              walkCacheDir: join(walkCacheRoot, repo.config.id, 'walk'),
            }),
            ...(opts.stdin && {
              stdin: {
                filename: opts.stdinFilename,
                stream: ctx.io.stdin as AsyncIterable<Buffer>,
              },
            }),
            ...(opts.stdinFromCommand && {
              stdin: { filename: opts.stdinFilename, command: paths },
            }),
            spoolDirs: spoolDirs(ctx),
            ...(ctx.signal && { signal: ctx.signal }),
            onEvent: (e) => track(ctx, progress, e),
          }),
        );
      } finally {
        stop();
      }
      await scanning;
      report(ctx, outcome);
      if (outcome.errors.length > 0) kit.setExitCode(EXIT_PARTIAL);
    });
};

function track(ctx: Context, p: ProgressState, e: BackupEvent): void {
  switch (e.kind) {
    case 'file-started':
      p.current.add(e.path);
      break;
    case 'file-done':
      p.current.delete(e.path);
      p.filesDone++;
      break;
    case 'bytes':
      p.bytesDone += e.bytes;
      break;
    case 'warning':
      if (ctx.json)
        ctx.emit({
          message_type: 'error',
          error: { message: e.message },
          during: 'archival',
          item: e.path,
          severity: 'warning',
        });
      else ctx.warn(`${e.path}: ${e.message}`);
      break;
    case 'error':
      p.errors++;
      if (ctx.json)
        ctx.emit({
          message_type: 'error',
          error: { message: e.message },
          during: 'archival',
          item: e.path,
        });
      else ctx.io.stderr.write(`error: ${e.path}: ${e.message}\n`);
      break;
  }
}

function report(ctx: Context, o: BackupOutcome): void {
  const s = o.snapshot.summary!;
  if (ctx.json) {
    ctx.emit({
      message_type: 'summary',
      ...s,
      total_duration: o.durationSeconds,
      ...(o.snapshotId && { snapshot_id: o.snapshotId }),
      ...(o.snapshot.partial && { partial: true }),
      dry_run: o.snapshotId === undefined,
    });
    return;
  }
  if (ctx.flags.quiet) return;
  ctx.out(
    `Files:       ${s.files_new} new, ${s.files_changed} changed, ${s.files_unmodified} unmodified`,
  );
  ctx.out(
    `Dirs:        ${s.dirs_new} new, ${s.dirs_changed} changed, ${s.dirs_unmodified} unmodified`,
  );
  ctx.out(
    `Added to the repository: ${formatBytes(s.data_added)} (${formatBytes(s.data_added_packed)} stored)`,
  );
  ctx.out(
    `processed ${s.total_files_processed} files, ${formatBytes(s.total_bytes_processed)} in ${o.durationSeconds.toFixed(2)}s`,
  );
  if (o.snapshotId)
    ctx.out(
      `snapshot ${o.snapshotId.slice(0, 8)} saved${o.snapshot.partial ? ' (partial: some files could not be read, see the errors above)' : ''}`,
    );
  else ctx.out('dry run: nothing was written');
}
