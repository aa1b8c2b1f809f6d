/**
 * The CLI entry as a function: `run(argv, io) → exit code`. The only place where errors become
 * exit codes (via the EXIT_CODES table); main.ts merely connects it to the real process.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../app/index.js';
import { describeError, HoldfastError } from '../core/index.js';
import type { CommandKit, RegisterCommand } from './command-kit.js';
import { registerBackup } from './commands/backup.js';
import { registerCat } from './commands/cat.js';
import { registerCheck } from './commands/check.js';
import { registerCopy } from './commands/copy.js';
import { registerDiff } from './commands/diff.js';
import { registerDump } from './commands/dump.js';
import { registerForget } from './commands/forget.js';
import { registerInit } from './commands/init.js';
import { registerKey } from './commands/key.js';
import { registerLs } from './commands/ls.js';
import { registerMysql } from './commands/mysql.js';
import { registerPg } from './commands/pg.js';
import { registerPrune } from './commands/prune.js';
import { registerRepair } from './commands/repair.js';
import { registerRestore } from './commands/restore.js';
import { registerServer } from './commands/server.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerStats } from './commands/stats.js';
import { registerUnlock } from './commands/unlock.js';
import { Context, type GlobalFlags } from './context.js';
import { EXIT_CODES, EXIT_OK } from './exit-codes.js';
import type { Io } from './io.js';

const COMMANDS: RegisterCommand[] = [
  registerInit,
  registerKey,
  registerBackup,
  registerSnapshots,
  registerForget,
  registerLs,
  registerDiff,
  registerDump,
  registerStats,
  registerCat,
  registerRestore,
  registerCheck,
  registerRepair,
  registerPrune,
  registerUnlock,
  registerCopy,
  registerServer,
  registerPg,
  registerMysql,
];

export async function run(argv: readonly string[], io: Io): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('holdfast')
    .description('holdfast: deduplicating, encrypted backups that prove they restore')
    .version(VERSION, '-V, --version')
    .option(
      '-r, --repo <location>',
      'repository: a path, local:PATH, rest:URL or s3:... (env HOLDFAST_REPOSITORY)',
    )
    .option('--password-file <file>', 'read the password from a file (env HOLDFAST_PASSWORD_FILE)')
    .option(
      '--password-command <command>',
      'run a command that prints the password (env HOLDFAST_PASSWORD_COMMAND)',
    )
    .option('--json', 'machine-readable output')
    .option('-q, --quiet', 'print only errors and requested data')
    .option('-v, --verbose', 'print more detail')
    .option(
      '--retry-lock <duration>',
      'keep retrying for this long when the repository is locked (e.g. 5m)',
    )
    .option('--cacert <file>', 'trust the CA certificates in this PEM file (rest:, s3:)')
    .option('--connections <n>', 'requests in flight at once to network storage (default 5)')
    .option(
      '--threads <n>',
      'worker threads of a backup, restore or check (env HOLDFAST_THREADS; default one per CPU, at most 8; fewer use less memory)',
    )
    .option('--limit-upload <KiB/s>', 'limit uploads to this many KiB per second')
    .option('--limit-download <KiB/s>', 'limit downloads to this many KiB per second')
    .option(
      '--cache-dir <dir>',
      'local cache of remote repository metadata (env HOLDFAST_CACHE_DIR; default ~/.cache/holdfast)',
    )
    .option('--no-cache', 'do not use the local metadata cache for remote repositories')
    .option(
      '--storage-retries <n>',
      'retries of a failed request to network storage before giving up (default 7, 0 = none)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const kit: CommandKit = {
    context: (cmd) => new Context(io, cmd.optsWithGlobals<GlobalFlags>()),
    setExitCode: (code) => {
      exitCode = Math.max(exitCode, code);
    },
  };
  for (const register of COMMANDS) register(program, kit);
  for (const cmd of program.commands) configure(cmd, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(
      err,
      io,
      argv.includes('--json'),
      argv.includes('-v') || argv.includes('--verbose'),
    );
  }
}

function configure(cmd: Command, io: Io): void {
  cmd
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const sub of cmd.commands) configure(sub, io);
}

function reportError(err: unknown, io: Io, json: boolean, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      return EXIT_OK;
    return EXIT_CODES.USAGE; // commander already printed the message
  }
  const code = err instanceof HoldfastError ? err.code : 'FAILURE';
  const message = describeError(err);
  const hint = err instanceof HoldfastError ? err.hint : undefined;
  if (json)
    io.stderr.write(
      JSON.stringify({
        message_type: 'exit_error',
        code: EXIT_CODES[code],
        error_code: code,
        message,
        ...(hint && { hint }),
      }) + '\n',
    );
  else io.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  if (verbose && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n');
  if (!(err instanceof HoldfastError) && !json)
    io.stderr.write('this is unexpected; please report it with the output of --verbose\n');
  return EXIT_CODES[code];
}
