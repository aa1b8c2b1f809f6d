/** statEntry: one path's FsEntry from lstat, readlink and the extended attributes. */
import { lstat, readlink } from 'node:fs/promises';
import { HoldfastError } from '../../core/index.js';
import { systemAccountNames, type AccountNames } from './account-names.js';
import { entryTypeOf, MODE_BITS, type FsEntry } from './fs-entry.js';
import { baseName, displayPath } from './path-bytes.js';
import { readXattrs } from './read-xattrs.js';

export interface StatEntryOptions {
  /** Where owner names come from; the system's /etc/passwd and /etc/group by default. */
  readonly accountNames?: AccountNames;
}

/**
 * Describes `path` itself (a symlink is not followed). Rejects with the Node system error of
 * lstat/readlink, or the native error of an xattr read (see readXattrs), so callers can branch
 * on `code` — ENOENT means the entry vanished. A kind of file holdfast cannot represent (none
 * exist on Linux) rejects with SOURCE_UNAVAILABLE.
 */
export async function statEntry(path: Buffer, options: StatEntryOptions = {}): Promise<FsEntry> {
  const st = await lstat(path, { bigint: true });
  const type = entryTypeOf(Number(st.mode));
  if (type === undefined) {
    throw new HoldfastError('SOURCE_UNAVAILABLE', `${displayPath(path)}: unsupported file type`, {
      hint: 'exclude it from the backup',
    });
  }
  const accounts = options.accountNames ?? systemAccountNames();
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const [user, group, linkTarget] = await Promise.all([
    accounts.userName(uid),
    accounts.groupName(gid),
    type === 'symlink' ? readlink(path, { encoding: 'buffer' }) : undefined,
  ]);
  const xattrs = readXattrs(path);
  const size = Number(st.size);
  return {
    name: baseName(path),
    path,
    type,
    mode: Number(st.mode) & MODE_BITS,
    uid,
    gid,
    ...(user !== undefined && { user }),
    ...(group !== undefined && { group }),
    size,
    inode: st.ino,
    deviceId: st.dev,
    links: Number(st.nlink),
    ...((type === 'dev' || type === 'chardev') && { rdev: st.rdev }),
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ...(linkTarget !== undefined && { linkTarget }),
    ...(xattrs.length > 0 && { xattrs }),
    // 512-byte units whatever the file system's block size (stat(2)). Inline or compressed
    // files can look sparse too; the sparse map then simply shows one data region.
    ...(type === 'file' && { sparse: st.blocks * 512n < st.size }),
  };
}
