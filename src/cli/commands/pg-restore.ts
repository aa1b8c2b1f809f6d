/**
 * `holdfast pg restore`: point-in-time recovery into a new data directory, optionally starting
 * the server and waiting until recovery has reached the target.
 */
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPgRestore, type PgRestoreOutcome } from '../../app/index.js';
import { HoldfastError, parseDuration } from '../../core/index.js';
import {
  findServerBinDir,
  lookupOsUser,
  shellQuote,
  startServer,
  waitForRecovery,
  type LocalServer,
  type RecoveryOutcome,
  type RecoveryTarget,
  type TargetAction,
} from '../../sources/index.js';
import type { RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';
import { configVariables, dbContext, type ConfigFlags } from './db-context.js';

/**
 * The compiled binary beside this module in dist/, for run() called in-process (Io.binary
 * names the running binary otherwise): restore_command runs it again as the server's user.
 */
const COMPILED_MAIN_JS = fileURLToPath(new URL('../main.js', import.meta.url));

interface Flags {
  targetDir: string;
  targetTime?: string;
  targetLsn?: string;
  targetXid?: string;
  targetName?: string;
  target?: string;
  targetAction: string;
  timeline: string;
  base?: string;
  systemId?: string;
  owner?: string;
  start?: boolean;
  port?: string;
  socketDir?: string;
  archive: boolean;
  pgBindir?: string;
  username?: string;
  waitTimeout: string;
  holdfastCommand?: string;
  restoreCommand?: string;
}

function targetFrom(f: Flags): RecoveryTarget {
  const given: RecoveryTarget[] = [
    ...(f.targetTime !== undefined ? [{ kind: 'time', value: f.targetTime } as const] : []),
    ...(f.targetLsn !== undefined ? [{ kind: 'lsn', value: f.targetLsn } as const] : []),
    ...(f.targetXid !== undefined ? [{ kind: 'xid', value: f.targetXid } as const] : []),
    ...(f.targetName !== undefined ? [{ kind: 'name', value: f.targetName } as const] : []),
  ];
  if (f.target !== undefined) {
    if (f.target !== 'latest' && f.target !== 'immediate')
      throw new HoldfastError('USAGE', `invalid --target "${f.target}"`, {
        hint: "use 'latest' or 'immediate'",
      });
    given.push({ kind: f.target });
  }
  if (given.length !== 1)
    throw new HoldfastError(
      'USAGE',
      'give exactly one of --target-time, --target-lsn, --target-xid, --target-name, --target latest',
      {
        hint: '--target latest recovers everything the archive holds',
      },
    );
  return given[0]!;
}

function actionFrom(text: string): TargetAction {
  if (text === 'promote' || text === 'pause' || text === 'shutdown') return text;
  throw new HoldfastError('USAGE', `invalid --target-action "${text}"`, {
    hint: 'use promote, pause or shutdown',
  });
}

/** Absolute, unless it names a remote store (scheme:...). */
function absoluteLocation(location: string): string {
  if (/^[a-z0-9]+:/i.test(location) && !location.startsWith('local:')) return location;
  const path = location.replace(/^local:/, '');
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * restore_command: this holdfast, with the repository and password settings of this invocation
 * in a form the server's user can use — never a password itself.
 */
function restoreCommand(ctx: Context, f: Flags, systemId: string | undefined): string {
  if (f.restoreCommand !== undefined) return f.restoreCommand;
  const config = (ctx.flags as ConfigFlags).config;
  const fromConfig = configVariables(ctx.flags as ConfigFlags);
  const words =
    f.holdfastCommand !== undefined
      ? [f.holdfastCommand]
      : [shellQuote(process.execPath), shellQuote(ctx.io.binary ?? COMPILED_MAIN_JS)];
  const args = ['-r', absoluteLocation(ctx.repositoryLocation())];
  const env = ctx.io.env;
  const configHasPassword = [
    'HOLDFAST_PASSWORD',
    'HOLDFAST_PASSWORD_FILE',
    'HOLDFAST_PASSWORD_COMMAND',
  ].some((k) => fromConfig[k] !== undefined);
  if (ctx.flags.passwordFile) args.push('--password-file', resolve(ctx.flags.passwordFile));
  else if (ctx.flags.passwordCommand) args.push('--password-command', ctx.flags.passwordCommand);
  else if (configHasPassword) {
    // the config file carries it
  } else if (env.HOLDFAST_PASSWORD_FILE)
    args.push('--password-file', resolve(env.HOLDFAST_PASSWORD_FILE));
  else if (env.HOLDFAST_PASSWORD_COMMAND)
    args.push('--password-command', env.HOLDFAST_PASSWORD_COMMAND);
  else
    throw new HoldfastError(
      'USAGE',
      'restore_command needs the repository password from a file or a command',
      {
        hint: 'use --password-file FILE (readable by the server user) or pg --config FILE, not HOLDFAST_PASSWORD; or give --restore-command',
      },
    );
  args.push('pg', 'wal-fetch');
  if (config !== undefined) args.push('--config', resolve(config));
  if (systemId !== undefined) args.push('--system-id', systemId);
  return [...words, ...args.map(shellQuote), '"%f"', '"%p"'].join(' ');
}

export const registerPgRestore: RegisterCommand = (pg, kit) => {
  pg.command('restore')
    .description(
      'point-in-time recovery: base backup + WAL into a new data directory, recovery settings written',
    )
    .requiredOption('--target-dir <dir>', 'new (or empty) data directory')
    .option(
      '--target-time <time>',
      'recover up to this time (with a zone: "2024-05-01 13:00:00+00")',
    )
    .option('--target-lsn <lsn>', 'recover up to this WAL position')
    .option('--target-xid <xid>', 'recover up to this transaction')
    .option('--target-name <name>', 'recover up to this restore point (pg_create_restore_point)')
    .option(
      '--target <target>',
      "'latest' (everything archived) or 'immediate' (end of the base backup)",
    )
    .option('--target-action <action>', 'at the target: promote, pause or shutdown', 'promote')
    .option(
      '--timeline <timeline>',
      "timeline to recover along: 'latest', 'current' or a number",
      'latest',
    )
    .option('--base <snapshot>', 'use this base backup instead of choosing one')
    .option('--system-id <id>', 'the cluster, when the repository holds several')
    .option(
      '--owner <user>',
      "OS user owning the restored files (when run as root; default 'postgres')",
    )
    .option('--start', 'start the restored server and wait until recovery reaches the target')
    .option('--port <port>', 'port of the restored server (written to postgresql.auto.conf)')
    .option(
      '--socket-dir <dir>',
      'unix socket directory of the restored server (default with --start: the target directory)',
    )
    .option('--no-archive', 'turn WAL archiving off in the restored server')
    .option(
      '--pg-bindir <dir>',
      'directory of pg_ctl and psql (default: /usr/lib/postgresql/VERSION/bin)',
    )
    .option('-U, --username <user>', 'database user to watch recovery as (default: the OS user)')
    .option('--wait-timeout <duration>', 'how long --start waits for recovery', '30m')
    .option(
      '--holdfast-command <command>',
      'how the server user runs holdfast in restore_command (default: this binary)',
    )
    .option('--restore-command <command>', 'use this restore_command instead')
    .action(async (opts: Flags, cmd: Command) => {
      const ctx = dbContext(kit, cmd);
      const target = targetFrom(opts);
      const action = actionFrom(opts.targetAction);
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
        throw new HoldfastError('USAGE', `invalid --port "${opts.port}"`);
      if (opts.start && port === undefined)
        throw new HoldfastError('USAGE', '--start needs --port', {
          hint: 'choose a free port for the restored server',
        });
      const timeout = parseDuration(opts.waitTimeout);
      if (timeout === undefined)
        throw new HoldfastError('USAGE', `invalid --wait-timeout "${opts.waitTimeout}"`);
      const targetDir = resolve(opts.targetDir);
      const socketDir =
        opts.socketDir !== undefined ? resolve(opts.socketDir) : opts.start ? targetDir : undefined;
      if (
        socketDir !== undefined &&
        port !== undefined &&
        `${socketDir}/.s.PGSQL.${port}`.length > 107
      )
        throw new HoldfastError(
          'USAGE',
          `socket path ${socketDir}/.s.PGSQL.${port} is too long for a unix socket`,
          {
            hint: 'use --socket-dir with a short path',
          },
        );
      const me = userInfo().username;
      const isRoot = process.getuid?.() === 0;
      const ownerName = opts.owner ?? (isRoot ? 'postgres' : undefined);
      const owner =
        ownerName !== undefined && isRoot ? await lookupOsUser(ownerName, ctx.io.env) : undefined;
      const repo = await ctx.open();
      // The lock covers reading the repository; the running server fetches WAL on its own.
      const out = await ctx.locked(repo, 'shared', () =>
        runPgRestore({
          repo,
          targetDir,
          target,
          action,
          timeline: opts.timeline,
          ...(opts.base !== undefined && { base: opts.base }),
          ...(opts.systemId !== undefined && { systemId: opts.systemId }),
          restoreCommand: (systemId) => restoreCommand(ctx, opts, systemId),
          ...(owner && { owner }),
          ...(port !== undefined && { port }),
          ...(socketDir !== undefined && { socketDirectory: socketDir }),
          ...(!opts.archive && { archiveOff: true }),
          env: ctx.io.env,
          ...(ctx.signal && { signal: ctx.signal }),
        }),
      );
      reportRestore(ctx, out, targetDir);
      if (!opts.start) {
        if (!ctx.json)
          ctx.out(`start it with: pg_ctl -D ${targetDir} start (as ${ownerName ?? me})`);
        else ctx.emit(restoreJson(out, targetDir, undefined));
        return;
      }
      const server: LocalServer = {
        dataDir: targetDir,
        socketDir: socketDir!,
        port: port!,
        bindir: opts.pgBindir ?? findServerBinDir(out.pgVersion),
        owner: owner?.name,
        currentUser: me,
        ...(opts.username !== undefined && { dbUser: opts.username }),
        env: ctx.io.env,
        logFile: join(targetDir, 'holdfast-restore.log'),
      };
      ctx.info(`starting the restored server on port ${port} (log: ${server.logFile})`);
      await startServer(server, ctx.signal);
      const recovery = await waitForRecovery(
        server,
        target.kind === 'latest' ? 'promote' : action,
        timeout,
        ctx.signal,
      );
      if (ctx.json) ctx.emit(restoreJson(out, targetDir, recovery));
      else reportRecovery(ctx, recovery);
    });
};

function reportRestore(ctx: Context, o: PgRestoreOutcome, dir: string): void {
  const b = o.base;
  ctx.info(
    `restored base backup ${b.entry.id.slice(0, 8)} (${b.entry.snapshot.time}, timeline ${b.timeline}) of cluster ${o.systemId ?? '?'} into ${dir}`,
  );
  if (o.configWritten.length > 0)
    ctx.warn(
      `the base backup held no ${o.configWritten.join(', ')} (kept in /etc?): minimal ones were written; review them before using this server`,
    );
  if (ctx.flags.verbose)
    ctx.info(`recovery settings appended to postgresql.auto.conf:\n${o.settings}`);
}

function reportRecovery(ctx: Context, r: RecoveryOutcome): void {
  const stop = r.logLines.filter((l) =>
    /recovery stopping|last completed transaction|redo done/.test(l),
  );
  for (const line of stop) ctx.out(`recovered to: ${line.replace(/^.*?(LOG|FATAL):\s+/, '')}`);
  ctx.out(
    `server ${r.state}` +
      (r.timeline !== undefined ? `, timeline ${r.timeline}` : '') +
      (r.replayLsn ? `, last replayed WAL ${r.replayLsn}` : '') +
      (r.lastTransactionTime ? `, last transaction at ${r.lastTransactionTime}` : ''),
  );
}

function restoreJson(o: PgRestoreOutcome, dir: string, r: RecoveryOutcome | undefined): unknown {
  return {
    target_dir: dir,
    base_snapshot: o.base.entry.id,
    system_identifier: o.systemId ?? null,
    timeline: o.base.timeline,
    settings: o.settings,
    config_written: o.configWritten,
    ...(r && {
      recovery: {
        state: r.state,
        timeline: r.timeline ?? null,
        replay_lsn: r.replayLsn ?? null,
        last_transaction_time: r.lastTransactionTime ?? null,
        log: r.logLines,
      },
    }),
  };
}
