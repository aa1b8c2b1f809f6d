/**
 * The whole CLI run in-process through `run(argv, io)`: real commands against real directories,
 * with stdout, stderr, stdin and the environment under the test's control.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { run, type Io } from '../cli/index.js';

export interface CliResult {
  readonly code: number;
  /** Raw standard output (dump writes binary data). */
  readonly stdoutBytes: Buffer;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Variables added to (or, when undefined, removed from) the test process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly stdin?: Buffer | string;
}

/**
 * The local metadata cache of every CLI run in this test process: a temporary directory removed
 * when the process exits, so tests never write into the developer's ~/.cache.
 */
export const TEST_CACHE_DIR = join(tmpdir(), `holdfast-test-cache-${process.pid}`);
process.once('exit', () => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }));

/**
 * The test process's environment without any HOLDFAST_* variable, so that a developer's own
 * settings never leak into a test, and with HOLDFAST_CACHE_DIR set to TEST_CACHE_DIR. PATH and
 * the rest stay: commands such as sh must be found.
 */
export function cleanEnv(): Record<string, string | undefined> {
  return {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('HOLDFAST_')),
    ),
    HOLDFAST_CACHE_DIR: TEST_CACHE_DIR,
  };
}

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
}

/** Runs `holdfast ARGV` in this process and returns its exit code and output. */
export async function runCli(
  argv: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const io: Io = {
    stdout: collector(out),
    stderr: collector(err),
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: { ...cleanEnv(), ...options.env },
    interactive: false,
  };
  const code = await run(argv, io);
  const stdoutBytes = Buffer.concat(out);
  return {
    code,
    stdoutBytes,
    stdout: stdoutBytes.toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** Formats a result for assertion messages. */
export function describeResult(argv: readonly string[], r: CliResult): string {
  return `holdfast ${argv.join(' ')} → exit ${r.code}\n--- stdout\n${r.stdout.slice(0, 4000)}\n--- stderr\n${r.stderr.slice(0, 4000)}`;
}

/** The backup summary that `backup --json` prints as its last `message_type: summary` line. */
export interface BackupSummary {
  readonly files_new: number;
  readonly files_changed: number;
  readonly files_unmodified: number;
  readonly dirs_new: number;
  readonly dirs_changed: number;
  readonly dirs_unmodified: number;
  readonly data_blobs: number;
  readonly tree_blobs: number;
  readonly data_added: number;
  readonly total_files_processed: number;
  readonly total_bytes_processed: number;
  readonly snapshot_id?: string;
  readonly dry_run: boolean;
}

/** A snapshot as `snapshots --json` lists it (restic's field names). */
export interface SnapshotJson {
  readonly id: string;
  readonly short_id: string;
  readonly time: string;
  readonly tree: string;
  readonly paths: string[];
  readonly hostname: string;
  readonly username: string;
  readonly tags?: string[];
  readonly parent?: string;
  readonly partial?: boolean;
  readonly summary?: Record<string, number | string>;
}

/**
 * One repository and its password, driven through the in-process CLI. The repository location
 * and password go through the environment, as a user would set them.
 */
export class CliRepo {
  constructor(
    readonly path: string,
    readonly password = 'correct horse battery staple',
  ) {}

  env(
    extra: Readonly<Record<string, string | undefined>> = {},
  ): Record<string, string | undefined> {
    return { HOLDFAST_REPOSITORY: this.path, HOLDFAST_PASSWORD: this.password, ...extra };
  }

  run(argv: readonly string[], options: CliOptions = {}): Promise<CliResult> {
    return runCli(argv, { ...options, env: this.env(options.env) });
  }

  /** Runs a command that must succeed (exit 0) and returns its result. */
  async ok(argv: readonly string[], options: CliOptions = {}): Promise<CliResult> {
    const r = await this.run(argv, options);
    assert.equal(r.code, 0, describeResult(argv, r));
    return r;
  }

  async init(...extra: string[]): Promise<void> {
    await this.ok(['init', ...extra]);
  }

  /** `backup --json ARGS`, which must succeed; returns the summary line. */
  async backup(argv: readonly string[], options: CliOptions = {}): Promise<BackupSummary> {
    return parseSummary((await this.ok(['backup', '--json', ...argv], options)).stdout);
  }

  async snapshots(...filters: string[]): Promise<SnapshotJson[]> {
    return JSON.parse(
      (await this.ok(['snapshots', '--json', ...filters])).stdout,
    ) as SnapshotJson[];
  }
}

/** The summary object among the JSON lines printed by `backup --json`. */
export function parseSummary(stdout: string): BackupSummary {
  const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
  for (const line of lines.reverse()) {
    const msg = JSON.parse(line) as { message_type?: string };
    if (msg.message_type === 'summary') return msg as unknown as BackupSummary;
  }
  throw new Error(`no summary line in backup --json output:\n${stdout}`);
}
