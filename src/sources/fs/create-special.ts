/** Restore side: creating the entries that have no content — special files and symlinks. */
import { symlink } from 'node:fs/promises';
import { HoldfastError } from '../../core/index.js';
import { MODE_BITS, typeBitsOf, type FsEntry } from './fs-entry.js';
import { major, minor, mknod } from './native.js';
import { displayPath } from './path-bytes.js';
import { restoreError } from './restore-error.js';

export type SpecialEntry = Pick<FsEntry, 'type' | 'mode'> & { readonly rdev?: bigint };

/**
 * Creates a fifo, socket, block ('dev') or character ('chardev') device at `path` with mknod.
 * Devices need `rdev` and, on Linux, CAP_MKNOD (root). The umask may strip mode bits: call
 * applyMetadata afterwards. Throws FAILURE with the system error as cause (EEXIST, EPERM, ...).
 */
export function createSpecial(path: Buffer, entry: SpecialEntry): void {
  const isDevice = entry.type === 'dev' || entry.type === 'chardev';
  if (!isDevice && entry.type !== 'fifo' && entry.type !== 'socket') {
    throw new HoldfastError(
      'FAILURE',
      `${displayPath(path)}: createSpecial cannot make a ${entry.type}`,
    );
  }
  if (isDevice && entry.rdev === undefined) {
    throw new HoldfastError(
      'INTEGRITY',
      `${displayPath(path)}: device entry without a device number`,
    );
  }
  const rdev = entry.rdev ?? 0n;
  try {
    mknod(path, typeBitsOf(entry.type) | (entry.mode & MODE_BITS), major(rdev), minor(rdev));
  } catch (err) {
    throw restoreError(`create ${entry.type}`, path, err);
  }
}

/** Creates a symlink at `path` pointing to `target` (raw bytes, not resolved or checked). */
export async function createSymlink(target: Buffer, path: Buffer): Promise<void> {
  try {
    await symlink(target, path);
  } catch (err) {
    throw restoreError('create symlink', path, err);
  }
}
