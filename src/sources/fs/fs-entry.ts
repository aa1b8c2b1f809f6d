/**
 * FsEntry: what the filesystem Source reports about one directory entry, taken from lstat (never
 * following symlinks) with nanosecond times. Paths and names are raw bytes: Linux file names
 * need not be valid UTF-8, and a backup must restore them byte for byte.
 */
import { constants } from 'node:fs';

export type FsEntryType = 'file' | 'dir' | 'symlink' | 'dev' | 'chardev' | 'fifo' | 'socket';

/** One extended attribute; names are bytes too (`user.foo`, `security.capability`, ...). */
export interface ExtendedAttribute {
  readonly name: Buffer;
  readonly value: Buffer;
}

export interface FsEntry {
  /** The last path component. */
  readonly name: Buffer;
  readonly path: Buffer;
  readonly type: FsEntryType;
  /** Permission, setuid, setgid and sticky bits only: st_mode & 0o7777. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Owner names from /etc/passwd and /etc/group, when they have an entry for the id. */
  readonly user?: string;
  readonly group?: string;
  /** st_size; for a symlink, the length of its target. */
  readonly size: number;
  readonly inode: bigint;
  /** st_dev: the file system the entry lives on (for --one-file-system and hard links). */
  readonly deviceId: bigint;
  readonly links: number;
  /** st_rdev, for 'dev' and 'chardev' only. */
  readonly rdev?: bigint;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  /** For 'symlink' only. */
  readonly linkTarget?: Buffer;
  /** Present only when the entry has attributes; sorted by name bytes. */
  readonly xattrs?: readonly ExtendedAttribute[];
  /** For 'file' only: fewer blocks allocated than the size needs, so it probably has holes. */
  readonly sparse?: boolean;
}

/** The entry type for an st_mode, or undefined for kinds holdfast cannot back up. */
export function entryTypeOf(stMode: number): FsEntryType | undefined {
  switch (stMode & constants.S_IFMT) {
    case constants.S_IFREG:
      return 'file';
    case constants.S_IFDIR:
      return 'dir';
    case constants.S_IFLNK:
      return 'symlink';
    case constants.S_IFBLK:
      return 'dev';
    case constants.S_IFCHR:
      return 'chardev';
    case constants.S_IFIFO:
      return 'fifo';
    case constants.S_IFSOCK:
      return 'socket';
    default:
      return undefined;
  }
}

/** The st_mode type bits for an entry type (the inverse of entryTypeOf). */
export function typeBitsOf(type: FsEntryType): number {
  switch (type) {
    case 'file':
      return constants.S_IFREG;
    case 'dir':
      return constants.S_IFDIR;
    case 'symlink':
      return constants.S_IFLNK;
    case 'dev':
      return constants.S_IFBLK;
    case 'chardev':
      return constants.S_IFCHR;
    case 'fifo':
      return constants.S_IFIFO;
    case 'socket':
      return constants.S_IFSOCK;
  }
}

/** st_mode bits kept in an entry: permissions plus setuid, setgid and sticky. */
export const MODE_BITS = 0o7777;
