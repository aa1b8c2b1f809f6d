/**
 * Decoding the packed records of the native scanDirectory (layout documented in
 * native/scan_directory.c) into raw entries: stat fields, link target and attributes per name,
 * or the errno and syscall that failed for it.
 */
import type { ExtendedAttribute } from './fs-entry.js';

export interface ScannedStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly size: number;
  readonly ino: bigint;
  readonly dev: bigint;
  readonly rdev: bigint;
  readonly blocks: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  /** Empty unless the entry is a symlink. */
  readonly linkTarget: Buffer;
  /** Sorted by name bytes. */
  readonly xattrs: ExtendedAttribute[];
}

export type ScannedEntry =
  | { readonly name: Buffer; readonly stat: ScannedStat }
  | { readonly name: Buffer; readonly errno: number; readonly syscall: string };

const SYSCALLS = ['lstat', 'readlink', 'llistxattr', 'lgetxattr'] as const;
const NS = 1_000_000_000n;

/**
 * Every record of `buf`, in the directory's order. Throws on a malformed buffer (a bug). When
 * `atimes` is given, the offset of each record's access time (12 bytes: seconds, nanoseconds) is
 * pushed onto it.
 */
export function decodeScan(
  buf: Buffer,
  atimes?: number[],
  from = 0,
  to = buf.length,
): ScannedEntry[] {
  const entries: ScannedEntry[] = [];
  let at = from;
  const bytes = (n: number): Buffer => {
    if (at + n > buf.length) throw new RangeError('scanDirectory record is truncated');
    // Copies, so an entry kept in a tree does not pin the whole directory's buffer.
    const out = Buffer.from(buf.subarray(at, at + n));
    at += n;
    return out;
  };
  const u8 = (): number => buf.readUInt8((at += 1) - 1);
  const u16 = (): number => buf.readUInt16LE((at += 2) - 2);
  const u32 = (): number => buf.readUInt32LE((at += 4) - 4);
  const u64 = (): bigint => buf.readBigUInt64LE((at += 8) - 8);
  // Sizes, link counts and block counts fit a double exactly far beyond any real file system.
  const n64 = (): number => Number(u64());
  const time = (): bigint => {
    const sec = buf.readBigInt64LE((at += 8) - 8);
    return sec * NS + BigInt(u32());
  };
  while (at < to) {
    const name = bytes(u16());
    if (u8() === 1) {
      const errno = buf.readInt32LE((at += 4) - 4);
      entries.push({ name, errno, syscall: SYSCALLS[u8()] ?? 'lstat' });
      continue;
    }
    const mode = u32();
    const uid = u32();
    const gid = u32();
    const nlink = n64();
    const size = n64();
    const ino = u64();
    const dev = u64();
    const rdev = u64();
    const blocks = n64();
    atimes?.push(at);
    const atimeNs = time();
    const mtimeNs = time();
    const ctimeNs = time();
    const linkTarget = bytes(u32());
    const xattrs: ExtendedAttribute[] = [];
    for (let count = u32(); count > 0; count--) {
      const attrName = bytes(u32());
      xattrs.push({ name: attrName, value: bytes(u32()) });
    }
    if (xattrs.length > 1) xattrs.sort((x, y) => Buffer.compare(x.name, y.name));
    entries.push({
      name,
      stat: {
        mode,
        uid,
        gid,
        nlink,
        size,
        ino,
        dev,
        rdev,
        blocks,
        atimeNs,
        mtimeNs,
        ctimeNs,
        linkTarget,
        xattrs,
      },
    });
  }
  return entries;
}

/** One record of a scan as briefScan sees it: where it is, its name, type bits and size. */
export interface BriefRecord {
  /** A view into the scan buffer (not a copy). */
  readonly name: Buffer;
  /** Byte range of the whole record, for decodeScan(buf, undefined, start, end). */
  readonly start: number;
  readonly end: number;
  /** st_mode; undefined for an entry that could not be described. */
  readonly mode: number | undefined;
  readonly size: number;
}

/** Fixed part of a described record after its status byte, up to the link target length. */
const FIXED = 4 + 4 + 4 + 8 * 6 + 12 * 3;
const ATIME_AT = 4 + 4 + 4 + 8 * 6;
const SIZE_AT = 4 + 4 + 4 + 8;

/**
 * The records of `buf` without decoding them: names, modes, sizes and where each record lies,
 * and the offset of every access time pushed onto `atimes` — enough to digest a listing and to
 * decode only the records needed. Throws on a malformed buffer (a bug).
 */
export function briefScan(buf: Buffer, atimes: number[]): BriefRecord[] {
  const records: BriefRecord[] = [];
  let at = 0;
  const need = (n: number): void => {
    if (at + n > buf.length) throw new RangeError('scanDirectory record is truncated');
  };
  /** Steps over a u32 length and that many bytes. */
  const skipCounted = (): void => {
    need(4);
    const length = buf.readUInt32LE(at);
    at += 4;
    need(length);
    at += length;
  };
  while (at < buf.length) {
    const start = at;
    need(2);
    const nameLength = buf.readUInt16LE(at);
    at += 2;
    need(nameLength + 1);
    const name = buf.subarray(at, at + nameLength);
    at += nameLength;
    const status = buf[at++]!;
    if (status === 1) {
      need(5);
      at += 5;
      records.push({ name, start, end: at, mode: undefined, size: 0 });
      continue;
    }
    need(FIXED);
    const mode = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + SIZE_AT) + buf.readUInt32LE(at + SIZE_AT + 4) * 2 ** 32;
    atimes.push(at + ATIME_AT);
    at += FIXED;
    skipCounted(); // link target
    need(4);
    let xattrs = buf.readUInt32LE(at);
    at += 4;
    for (; xattrs > 0; xattrs--) {
      skipCounted(); // name
      skipCounted(); // value
    }
    records.push({ name, start, end: at, mode, size });
  }
  return records;
}
