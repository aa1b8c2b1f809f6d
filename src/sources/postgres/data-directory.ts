/**
 * Laying out a restored data directory: an empty directory of mode 0700, the tar unpacked into it
 * by tar(1), then everything handed to the server's OS user (when we run as root).
 */
import { chmod, chown, lchown, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HoldfastError, describeError, errnoCode } from '../../core/index.js';
import { runTool, type ToolEnv } from './tool-process.js';

/** Creates `dir` (mode 0700) or accepts it when empty; anything in it is refused. */
export async function prepareDataDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new HoldfastError(
      'USAGE',
      `cannot read target directory ${dir}: ${errnoCode(err) ?? describeError(err)}`,
    );
  }
  if (entries.length > 0)
    throw new HoldfastError('USAGE', `target directory ${dir} is not empty`, {
      hint: 'restore into a new or empty directory; holdfast never overwrites a data directory',
    });
  await chmod(dir, 0o700);
}

/** tar reading the archive from standard input into `dir`, owners left to the caller. */
export function tarExtractArgv(dir: string): string[] {
  return ['tar', '-x', '-f', '-', '-C', dir, '--no-same-owner'];
}

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export async function lookupOsUser(name: string, env: ToolEnv): Promise<OsUser> {
  try {
    const uid = Number((await runTool(['id', '-u', name], { env })).stdout.trim());
    const gid = Number((await runTool(['id', '-g', name], { env })).stdout.trim());
    return { name, uid, gid };
  } catch {
    throw new HoldfastError('USAGE', `no such user "${name}"`, {
      hint: 'name the OS user the restored server runs as with --owner',
    });
  }
}

/** chown -R without following symbolic links. */
export async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await lchown(child, uid, gid);
  }
}
