/** The glue every command file uses: how it registers, gets its Context, and reports an exit code. */
import type { Command } from 'commander';
import type { Context } from './context.js';

export interface CommandKit {
  /** Context for this invocation (global flags merged in). */
  context(cmd: Command): Context;
  /** Sets the process exit code a successful-but-partial command ends with (e.g. 3). */
  setExitCode(code: number): void;
}

export type RegisterCommand = (program: Command, kit: CommandKit) => void;

/** Collects repeatable options: --tag a --tag b,c → ['a', 'b', 'c'] when split. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function splitTags(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).filter((t) => t.length > 0);
}
