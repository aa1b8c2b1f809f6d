/** Restore side: giving a restored entry its owner, attributes, mode and times back. */
import { fchmodSync, fchownSync } from 'node:fs';
import { chmod, lchown } from 'node:fs/promises';
import { MODE_BITS, type FsEntry } from './fs-entry.js';
import { lsetxattr, setFileTimesNs, setTimesNs } from './native.js';
import { restoreError } from './restore-error.js';

export type FsMetadata = Pick<
  FsEntry,
  'type' | 'mode' | 'uid' | 'gid' | 'atimeNs' | 'mtimeNs' | 'xattrs'
>;

export interface ApplyMetadataOptions {
  /** Restore numeric uid/gid with lchown. Only root may give files away: pass `true` only then. */
  readonly owner: boolean;
}

/**
 * Applies `meta` to the entry at `path` (a symlink itself, never its target), in this order:
 *
 * 1. owner (lchown), when `options.owner`: chown clears setuid/setgid and security.capability,
 *    so everything those depend on comes after it;
 * 2. extended attributes (lsetxattr each): before chmod, because without root a user.* attribute
 *    needs write permission that a read-only mode would take away;
 * 3. mode (chmod), except for symlinks, whose mode Linux cannot change;
 * 4. atime and mtime with nanoseconds, last, since every step above may touch the inode.
 *
 * Call it after the entry's content is complete: writing to a file clears its setuid bits and
 * security.capability. For a directory, call it after everything inside the directory has been
 * restored — creating entries updates the directory's mtime, and a read-only mode would block the
 * restore of its contents. That ordering is the caller's job.
 *
 * Throws FAILURE naming the path and the step (for an attribute, its name), with the system
 * error as cause; the steps before the failing one have been applied.
 */
export async function applyMetadata(
  path: Buffer,
  meta: FsMetadata,
  options: ApplyMetadataOptions,
): Promise<void> {
  if (options.owner) {
    try {
      await lchown(path, meta.uid, meta.gid);
    } catch (err) {
      throw restoreError(`set owner ${meta.uid}:${meta.gid}`, path, err);
    }
  }
  setXattrs(path, meta);
  if (meta.type !== 'symlink') {
    try {
      await chmod(path, meta.mode & MODE_BITS);
    } catch (err) {
      throw restoreError(`set mode ${(meta.mode & MODE_BITS).toString(8)}`, path, err);
    }
  }
  setTimes(path, meta);
}

/**
 * applyMetadata for a regular file the caller holds open for writing (`fd`, opened at `path`),
 * in the same order and with the same errors, but through the descriptor and synchronously: a
 * restore of many small files would otherwise spend more time handing each call to the thread
 * pool and back than the calls take (they touch only the inode, which is cached). Times are set
 * through the descriptor too (futimens); extended attributes still go by path (no-follow), as
 * in applyMetadata. The caller closes `fd`.
 */
export function applyFileMetadata(
  fd: number,
  path: Buffer,
  meta: FsMetadata,
  options: ApplyMetadataOptions,
): void {
  if (options.owner) {
    try {
      fchownSync(fd, meta.uid, meta.gid);
    } catch (err) {
      throw restoreError(`set owner ${meta.uid}:${meta.gid}`, path, err);
    }
  }
  setXattrs(path, meta);
  try {
    fchmodSync(fd, meta.mode & MODE_BITS);
  } catch (err) {
    throw restoreError(`set mode ${(meta.mode & MODE_BITS).toString(8)}`, path, err);
  }
  try {
    setFileTimesNs(fd, meta.atimeNs, meta.mtimeNs);
  } catch (err) {
    throw restoreError('set times', path, err);
  }
}

/** Extended attributes by path, without following symlinks (both variants above). */
function setXattrs(path: Buffer, meta: FsMetadata): void {
  for (const { name, value } of meta.xattrs ?? []) {
    try {
      lsetxattr(path, name, value);
    } catch (err) {
      throw restoreError(`set extended attribute ${name.toString('utf8')}`, path, err);
    }
  }
}

/** Times by path, last (applyMetadata). */
function setTimes(path: Buffer, meta: FsMetadata): void {
  try {
    // No-follow for every type, not just symlinks: if the path was swapped for a symlink since
    // it was created, the times land on the link, not on whatever it points to.
    setTimesNs(path, meta.atimeNs, meta.mtimeNs, true);
  } catch (err) {
    throw restoreError('set times', path, err);
  }
}
