/**
 * XDG base directories (the freedesktop.org Base Directory Specification): a variable that is
 * unset, empty or relative is ignored and its default below $HOME is used instead. An empty
 * XDG_DATA_HOME (as a shell leaves `XDG_DATA_HOME= holdfast …`) used to put the default
 * repository in ./holdfast/repository, relative to wherever the command ran.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Io } from './io.js';

/** The directory `variable` names, or `$HOME/<below...>`. */
export function xdgDir(env: Io['env'], variable: string, ...below: string[]): string {
  const value = env[variable];
  if (value !== undefined && value !== '' && isAbsolute(value)) return value;
  const home = env.HOME;
  return join(home !== undefined && home !== '' ? home : homedir(), ...below);
}
