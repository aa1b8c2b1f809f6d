/**
 * Where the password comes from, in order: --password-file, --password-command, then the
 * environment (HOLDFAST_PASSWORD_FILE, HOLDFAST_PASSWORD_COMMAND, HOLDFAST_PASSWORD), then a
 * prompt when a terminal is attached. Never logged, never part of an error message.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { HoldfastError, describeError } from '../core/index.js';
import type { Io } from './io.js';

export interface PasswordFlags {
  readonly passwordFile?: string;
  readonly passwordCommand?: string;
}

async function fromFile(path: string): Promise<string> {
  try {
    return firstLine(await readFile(path, 'utf8'));
  } catch (err) {
    throw new HoldfastError(
      'CONFIG_INVALID',
      `cannot read password file ${path}: ${describeError(err)}`,
      { hint: 'check the path given to --password-file / HOLDFAST_PASSWORD_FILE' },
    );
  }
}

function fromCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err)
        reject(
          new HoldfastError('CONFIG_INVALID', `password command failed (${err.code ?? 'error'})`, {
            hint: 'run the --password-command yourself to see why it fails',
          }),
        );
      else resolve(firstLine(stdout));
    });
  });
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

export async function prompt(io: Io, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  // Mute echo: readline writes typed characters through _writeToOutput.
  const muted = rl as unknown as { _writeToOutput: (s: string) => void };
  io.stderr.write(question);
  muted._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    io.stderr.write('\n');
    rl.close();
  }
}

export async function readPassword(
  io: Io,
  flags: PasswordFlags,
  purpose = 'enter password for repository: ',
  confirm = false,
): Promise<string> {
  const env = io.env;
  let password: string | undefined;
  if (flags.passwordFile) password = await fromFile(flags.passwordFile);
  else if (flags.passwordCommand) password = await fromCommand(flags.passwordCommand);
  else if (env.HOLDFAST_PASSWORD_FILE) password = await fromFile(env.HOLDFAST_PASSWORD_FILE);
  else if (env.HOLDFAST_PASSWORD_COMMAND)
    password = await fromCommand(env.HOLDFAST_PASSWORD_COMMAND);
  else if (env.HOLDFAST_PASSWORD !== undefined) password = env.HOLDFAST_PASSWORD;
  else if (io.interactive && (io.stdin as { isTTY?: boolean }).isTTY) {
    password = await prompt(io, purpose);
    if (confirm && (await prompt(io, 'enter password again: ')) !== password)
      throw new HoldfastError('USAGE', 'passwords do not match');
  }
  if (password === undefined) {
    throw new HoldfastError('PASSWORD_REQUIRED', 'no password given', {
      hint: 'set HOLDFAST_PASSWORD or HOLDFAST_PASSWORD_FILE, or pass --password-file / --password-command',
    });
  }
  if (password.length === 0) throw new HoldfastError('USAGE', 'an empty password is not allowed');
  return password;
}

/** A new password for init / key add / key passwd: --new-password-file, or asked twice on a terminal. */
export async function readNewPassword(
  io: Io,
  file: string | undefined,
  fallback?: () => Promise<string>,
): Promise<string> {
  if (file) return fromFile(file);
  if (io.interactive && (io.stdin as { isTTY?: boolean }).isTTY) {
    const a = await prompt(io, 'enter new password: ');
    const b = await prompt(io, 'enter password again: ');
    if (a !== b) throw new HoldfastError('USAGE', 'passwords do not match');
    if (a.length === 0) throw new HoldfastError('USAGE', 'an empty password is not allowed');
    return a;
  }
  if (fallback) return fallback();
  throw new HoldfastError('PASSWORD_REQUIRED', 'no new password given', {
    hint: 'pass --new-password-file FILE',
  });
}
