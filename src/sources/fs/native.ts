/**
 * Typed access to the holdfast_native addon (native/holdfast_native.c): extended attributes,
 * nanosecond utimensat and futimens, mknod, SEEK_DATA/SEEK_HOLE and dev_t helpers — the calls Node's fs lacks.
 *
 * The addon is loaded on first use, not at import, so commands that never touch file metadata
 * (and machines where it was not built) still work. All calls but scanDirectory are synchronous
 * syscalls; failures throw an Error whose `code` is the errno name ('ENOENT', 'ENOTSUP', ...).
 */
import { loadAddon } from '../../core/index.js';

interface NativeAddon {
  llistxattr(path: Buffer): Buffer[];
  lgetxattr(path: Buffer, name: Buffer): Buffer;
  lsetxattr(path: Buffer, name: Buffer, value: Buffer): void;
  utimensat(
    path: Buffer,
    atimeSec: bigint | number,
    atimeNsec: number,
    mtimeSec: bigint | number,
    mtimeNsec: number,
    noFollow: boolean,
  ): void;
  futimens(
    fd: number,
    atimeSec: bigint | number,
    atimeNsec: number,
    mtimeSec: bigint | number,
    mtimeNsec: number,
  ): void;
  mknod(path: Buffer, mode: number, rdevMajor: number, rdevMinor: number): void;
  sparseMap(fd: number, size: number): Array<[offset: number, length: number]>;
  major(rdev: bigint | number): number;
  minor(rdev: bigint | number): number;
  makedev(major: number, minor: number): bigint;
  scanDirectory(dir: Buffer): Promise<Buffer>;
  tuneAllocator(mmapThreshold: number, trimThreshold: number, topPad: number): boolean;
}

function load(): NativeAddon {
  return loadAddon<NativeAddon>('holdfast_native');
}

/** Names of the extended attributes of `path` itself (a symlink is not followed). */
export function llistxattr(path: Buffer): Buffer[] {
  return load().llistxattr(path);
}

/** One attribute's value; throws ENODATA when it does not exist. Does not follow symlinks. */
export function lgetxattr(path: Buffer, name: Buffer): Buffer {
  return load().lgetxattr(path, name);
}

/** Creates or replaces one attribute. Does not follow symlinks. */
export function lsetxattr(path: Buffer, name: Buffer, value: Buffer): void {
  load().lsetxattr(path, name, value);
}

/** utimensat(2) with separate seconds and nanoseconds (0..999999999). */
export function utimensat(
  path: Buffer,
  atimeSec: bigint | number,
  atimeNsec: number,
  mtimeSec: bigint | number,
  mtimeNsec: number,
  noFollow: boolean,
): void {
  load().utimensat(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, noFollow);
}

const NS_PER_SECOND = 1_000_000_000n;

/** Sets atime and mtime from nanoseconds since the epoch, as `lstat({bigint: true})` reports them. */
export function setTimesNs(
  path: Buffer,
  atimeNs: bigint,
  mtimeNs: bigint,
  noFollow: boolean,
): void {
  const [atimeSec, atimeNsec] = splitNs(atimeNs);
  const [mtimeSec, mtimeNsec] = splitNs(mtimeNs);
  load().utimensat(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, noFollow);
}

/** futimens(2): utimensat through an open descriptor. */
export function futimens(
  fd: number,
  atimeSec: bigint | number,
  atimeNsec: number,
  mtimeSec: bigint | number,
  mtimeNsec: number,
): void {
  load().futimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec);
}

/** setTimesNs through an open descriptor (futimens). */
export function setFileTimesNs(fd: number, atimeNs: bigint, mtimeNs: bigint): void {
  const [atimeSec, atimeNsec] = splitNs(atimeNs);
  const [mtimeSec, mtimeNsec] = splitNs(mtimeNs);
  load().futimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec);
}

// BigInt division truncates toward zero; times before 1970 need the floor so nsec stays >= 0.
function splitNs(ns: bigint): [bigint, number] {
  let sec = ns / NS_PER_SECOND;
  let nsec = ns % NS_PER_SECOND;
  if (nsec < 0n) {
    nsec += NS_PER_SECOND;
    sec -= 1n;
  }
  return [sec, Number(nsec)];
}

/** mknod(2): `mode` includes the type bits (S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK); umask applies. */
export function mknod(path: Buffer, mode: number, rdevMajor: number, rdevMinor: number): void {
  load().mknod(path, mode, rdevMajor, rdevMinor);
}

/**
 * Data regions `[offset, length]` among the first `size` bytes of an open file, found with
 * SEEK_DATA/SEEK_HOLE; everything else is a hole. Where the file system cannot tell, the answer
 * is one region covering everything. The descriptor's file offset is left unchanged.
 */
export function sparseMap(fd: number, size: number): Array<[offset: number, length: number]> {
  return load().sparseMap(fd, size);
}

/** The major number of a device id (st_rdev / st_dev), decoded by the C library. */
export function major(rdev: bigint | number): number {
  return load().major(rdev);
}

/** The minor number of a device id (st_rdev / st_dev), decoded by the C library. */
export function minor(rdev: bigint | number): number {
  return load().minor(rdev);
}

/** Encodes a device id the way this system's stat reports it. */
export function makedev(major: number, minor: number): bigint {
  return load().makedev(major, minor);
}

/**
 * A directory's entries, each with its lstat fields, symlink target and extended attributes,
 * read on a thread-pool thread and packed into one buffer (decoded by scan-record.ts). Rejects
 * with a system error (syscall "scandir") when the directory itself cannot be read.
 */
export function scanDirectory(dir: Buffer): Promise<Buffer> {
  return load().scanDirectory(dir);
}

/**
 * Tunes glibc's malloc for buffers of several MiB allocated and freed at a high rate (see
 * native/holdfast_native.c): served from the heap below `mmapThreshold` bytes, freed memory kept
 * up to `trimThreshold`, the heap grown by `topPad` extra. Process-wide; returns false where
 * there is nothing to tune (not glibc).
 */
export function tuneAllocator(
  mmapThreshold: number,
  trimThreshold: number,
  topPad: number,
): boolean {
  return load().tuneAllocator(mmapThreshold, trimThreshold, topPad);
}
