/** Small fs helpers for crash-safe writes. */
import { open, unlink } from 'node:fs/promises';
import { errnoCode } from '../../core/index.js';

/**
 * fsyncs a directory so that a link or unlink in it survives a power loss; without it ext4/xfs may
 * lose the new name even though the file data itself was fsynced.
 */
export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file, ignoring "already gone"; for cleanup paths where the first error matters. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Nothing to do: the caller is already reporting a more useful error, or the file is gone.
  }
}

/** Runs fn, returning undefined instead of throwing when the path does not exist. */
export async function unlessMissing<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
