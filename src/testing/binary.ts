/**
 * The real holdfast binary (dist/bin/holdfast.js, built by scripts/bundle.mjs) as a child process: for what only a process can
 * show — signals (SIGKILL, SIGINT), exit codes as the shell sees them, another user's rights.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cleanEnv } from './cli-harness.js';

const execFileP = promisify(execFile);

/** Absolute path of the bundled binary, as `npm run build` writes it beside this file's dist/. */
export const BINARY = fileURLToPath(new URL('../bin/holdfast.js', import.meta.url));

export interface BinaryOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Run as this user via `runuser -u USER --` (the test must run as root). */
  readonly user?: string;
  /** Binary to run instead of BINARY (a copy another user can read). */
  readonly binary?: string;
  readonly stdin?: Buffer | string;
}

export interface BinaryResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `holdfast ARGV` with piped stdio; the caller owns the process. */
export function spawnBinary(argv: readonly string[], options: BinaryOptions = {}): ChildProcess {
  const program = [process.execPath, options.binary ?? BINARY, ...argv];
  const [command, ...args] = options.user
    ? ['runuser', '-u', options.user, '--', ...program]
    : program;
  return spawn(command ?? process.execPath, args, {
    env: { ...cleanEnv(), ...options.env },
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a spawned process's output until it exits. */
export function waitForExit(child: ChildProcess): Promise<BinaryResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** Runs `holdfast ARGV` to completion. */
export async function runBinary(
  argv: readonly string[],
  options: BinaryOptions = {},
): Promise<BinaryResult> {
  const child = spawnBinary(argv, options);
  const done = waitForExit(child);
  child.stdin?.end(options.stdin);
  return done;
}

/**
 * A path of the binary that `user` can run. The built tree is used in place when that user can
 * read it (check with `ls -ld` of its parents otherwise); if not — a checkout under /root, say —
 * the runtime files (dist, the native addon, production dependencies) are copied to `scratch`,
 * which must itself be traversable by `user`.
 */
export async function binaryUsableBy(user: string, scratch: string): Promise<string> {
  const probe = await runBinary(['--version'], { user });
  if (probe.code === 0) return BINARY;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const copy = join(scratch, 'holdfast-copy');
  for (const part of [
    'package.json',
    'dist',
    'build/Release/holdfast_native.node',
    'node_modules/commander',
    'node_modules/zstd-napi',
  ]) {
    await cp(join(root, part), join(copy, part), { recursive: true });
  }
  await chmodReadable(copy);
  const binary = join(copy, 'dist', 'bin', 'holdfast.js');
  const again = await runBinary(['--version'], { user, binary });
  if (again.code !== 0) throw new Error(`${user} cannot run ${binary}: ${again.stderr}`);
  return binary;
}

/** Makes a copied tree readable (and its dirs traversable) by everyone. */
async function chmodReadable(dir: string): Promise<void> {
  await execFileP('chmod', ['-R', 'a+rX', dir]);
}
