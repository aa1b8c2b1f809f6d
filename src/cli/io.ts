/**
 * What a command may touch of the outside world. `run(argv, io)` takes it as a parameter so
 * tests run the whole CLI in-process with captured output and their own environment.
 */
import type { Readable, Writable } from 'node:stream';

export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stderr is a terminal: progress lines and prompts are allowed. */
  readonly interactive: boolean;
  readonly signal?: AbortSignal;
  /**
   * The file of the running holdfast binary, for commands that have another program run it
   * again (pg restore's restore_command). Absent when run() is called in-process (tests): the
   * compiled dist/cli/main.js is used then.
   */
  readonly binary?: string;
}

export function write(stream: Writable, text: string): void {
  stream.write(text);
}
