/**
 * Database client programs (pg_dump, pg_basebackup, mariadb-dump, psql, ...) as child processes.
 * The environment is passed in, never read here. Standard error is kept (its tail ends up in the
 * error message) and optionally forwarded. `output` is a *checked* stream: after the last byte it
 * waits for the exit status and throws when the program failed, so a consumer that commits only
 * after the stream ended (a snapshot) never commits a failed dump.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { HoldfastError, type ErrorCode } from '../../core/index.js';

export type ToolEnv = Readonly<Record<string, string | undefined>>;

export interface ToolOptions {
  readonly env: ToolEnv;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  /** 'pipe' gives `stdin` to write to; default: no input. */
  readonly stdin?: 'pipe' | 'ignore';
  /** Forward standard error as it arrives (the CLI prints it). */
  readonly onStderr?: (text: string) => void;
  /** Error code when the program fails (default SOURCE_UNAVAILABLE, exit 21). */
  readonly errorCode?: ErrorCode;
  /** Appended to the failure message, e.g. "no snapshot was written". */
  readonly consequence?: string;
}

export interface ToolResult {
  readonly stderr: string;
}

export interface ToolProcess {
  /** Standard output; throws after the end when the program did not exit 0. */
  readonly output: AsyncIterable<Buffer>;
  readonly stdin: Writable | null;
  /** Resolves when the program exited 0; rejects with a HoldfastError otherwise. */
  readonly completed: Promise<ToolResult>;
  /** Standard error so far (the last 64 KiB). */
  stderr(): string;
  kill(): void;
}

const STDERR_KEEP = 64 * 1024;

export function startTool(argv: readonly string[], options: ToolOptions): ToolProcess {
  const [command, ...args] = argv;
  if (command === undefined) throw new HoldfastError('USAGE', 'no program to run');
  const child: ChildProcess = spawn(command, args, {
    env: options.env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    ...(options.signal && { signal: options.signal }),
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
    options.onStderr?.(s);
  });
  // A program that exits without reading all its input must not crash us with EPIPE.
  child.stdin?.on('error', () => undefined);
  const name = command.split('/').pop() ?? command;
  const code = options.errorCode ?? 'SOURCE_UNAVAILABLE';
  const completed = new Promise<ToolResult>((resolve, reject) => {
    child.once('error', (err) =>
      reject(
        new HoldfastError(code, `cannot run ${name}: ${err.message}`, {
          cause: err,
          hint: 'is it installed and on PATH? (Debian: postgresql-client, mariadb-client)',
        }),
      ),
    );
    child.once('close', (status, sig) => {
      if (status === 0) return resolve({ stderr });
      const how = sig ? `signal ${sig}` : `exit code ${status}`;
      const last = lastLines(stderr);
      reject(
        new HoldfastError(
          code,
          `${name} failed (${how})${last ? `: ${last}` : ''}${options.consequence ? `; ${options.consequence}` : ''}`,
          { hint: `run ${name} yourself with the same options to see why` },
        ),
      );
    });
  });
  completed.catch(() => undefined); // observed by the caller; avoid an unhandled rejection
  let finished = false;
  async function* checked(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
      await completed;
      finished = true;
    } finally {
      if (!finished) child.kill('SIGTERM');
    }
  }
  return {
    output: checked(),
    stdin: child.stdin,
    completed,
    stderr: () => stderr,
    kill: () => {
      child.kill('SIGTERM');
    },
  };
}

/** Runs a program to completion and returns its standard output as text. */
export async function runTool(
  argv: readonly string[],
  options: ToolOptions,
): Promise<{ stdout: string; stderr: string }> {
  const proc = startTool(argv, options);
  const chunks: Buffer[] = [];
  for await (const chunk of proc.output) chunks.push(chunk);
  const { stderr } = await proc.completed;
  return { stdout: Buffer.concat(chunks).toString('utf8'), stderr };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(-600);
}
