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
}

export function write(stream: Writable, text: string): void {
  stream.write(text);
}
