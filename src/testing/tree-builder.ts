/**
 * Builds a source tree holding every kind of file metadata a backup must carry: the fixture of
 * the metadata round-trip test. Created with plain syscalls (Node's fs plus the native addon for
 * mknod, xattrs and nanosecond times), never with holdfast's own restore code, so the tree is an
 * independent reference. Needs root (device nodes, chown, ACLs for other users).
 */
import { constants } from 'node:fs';
import { chmod, chown, lchown, link, mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { lsetxattr, makedev, major, minor, mknod, setTimesNs } from '../sources/index.js';
import { writeSeededFile } from './random-data.js';

/** Joins path parts as bytes: names on Linux need not be UTF-8. */
export function bytesPath(...parts: Array<string | Buffer>): Buffer {
  const pieces: Buffer[] = [];
  parts.forEach((part, i) => {
    if (i > 0) pieces.push(Buffer.from('/'));
    pieces.push(Buffer.isBuffer(part) ? part : Buffer.from(part));
  });
  return Buffer.concat(pieces);
}

/** Facts about the built tree that tests check beyond what rsync compares. */
export interface MetadataTree {
  readonly root: string;
  /** Sparse files, relative to root, with their apparent size and the bytes of data in them. */
  readonly sparse: ReadonlyArray<{ path: string; size: number; dataBytes: number }>;
  /** The relative path of the nanosecond-mtime file and the mtime it was given. */
  readonly nsFile: { path: string; mtimeNs: bigint };
  /** Relative paths (as bytes) of entries given owner 1234:5678. */
  readonly oddOwner: readonly Buffer[];
  /** Name of a file whose name is not valid UTF-8 (in `names/`). */
  readonly nonUtf8Name: Buffer;
}

export const ODD_UID = 1234;
export const ODD_GID = 5678;

/**
 * A POSIX ACL in the kernel's xattr format (system.posix_acl_access / _default): version 2, then
 * (tag u16, perm u16, id u32) entries ordered by tag and id. What setfacl writes.
 */
export function posixAcl(
  entries: ReadonlyArray<{ tag: AclTag; perm: number; id?: number }>,
): Buffer {
  const buf = Buffer.alloc(4 + 8 * entries.length);
  buf.writeUInt32LE(2, 0);
  entries.forEach((e, i) => {
    buf.writeUInt16LE(ACL_TAGS[e.tag], 4 + 8 * i);
    buf.writeUInt16LE(e.perm, 6 + 8 * i);
    buf.writeUInt32LE(e.id ?? 0xffffffff, 8 + 8 * i);
  });
  return buf;
}
type AclTag = 'user_obj' | 'user' | 'group_obj' | 'group' | 'mask' | 'other';
const ACL_TAGS: Record<AclTag, number> = {
  user_obj: 0x01,
  user: 0x02,
  group_obj: 0x04,
  group: 0x08,
  mask: 0x10,
  other: 0x20,
};

const SAMPLE_ACL = posixAcl([
  { tag: 'user_obj', perm: 6 },
  { tag: 'user', perm: 6, id: ODD_UID },
  { tag: 'group_obj', perm: 4 },
  { tag: 'group', perm: 4, id: ODD_GID },
  { tag: 'mask', perm: 6 },
  { tag: 'other', perm: 0 },
]);

const S_IFIFO = constants.S_IFIFO;
const S_IFCHR = constants.S_IFCHR;
const S_IFBLK = constants.S_IFBLK;
const MiB = 1024 * 1024;

/** Writes `data` at each offset of `pieces`, then sets the size: everything else is a hole. */
async function writeSparse(
  path: string,
  size: number,
  pieces: ReadonlyArray<{ offset: number; data: Buffer }>,
): Promise<number> {
  const handle = await open(path, 'w');
  try {
    for (const { offset, data } of pieces) await handle.write(data, 0, data.length, offset);
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
  return pieces.reduce((n, p) => n + p.data.length, 0);
}

/**
 * Creates the tree under `root` (which must exist and be empty). Covers: regular, empty and
 * multi-chunk files; empty dirs; hardlinks in one dir and across dirs (nlink 2 and 3); relative,
 * absolute and dangling symlinks; a fifo, a char and a block device; sparse files; user xattrs
 * (text, binary, empty) on files and dirs; POSIX ACLs (access and default); non-UTF-8, 255-byte,
 * and awkward names; a deep path; setuid/setgid/sticky and mode 000; odd owners; nanosecond,
 * pre-1970 and post-2038 times, on files, dirs and symlinks.
 */
export async function buildMetadataTree(root: string): Promise<MetadataTree> {
  const at = (...parts: Array<string | Buffer>): Buffer => bytesPath(root, ...parts);
  const dirs = [
    'plain',
    'plain/empty-dir',
    'hardlinks',
    'hardlinks/other',
    'hardlinks/other/nested',
    'links',
    'special',
    'sparse',
    'xattrs',
    'xattrs/dir',
    'acl',
    'acl/default-dir',
    'names',
    'modes',
    'owners',
    'owners/dir',
    'times',
    'times/ns-dir',
  ];
  for (const d of dirs) await mkdir(at(d));

  // Regular files: small text, empty, and one spanning several chunks (min chunk 512 KiB).
  await writeFile(at('plain/hello.txt'), 'hello, world\n');
  await writeFile(at('plain/empty'), '');
  await writeSeededFile(`${root}/plain/multi-chunk.bin`, 3 * MiB + 12345, 'multi-chunk');

  // Hardlinks: a pair in one directory, a pair across directories, a triple across three.
  await writeFile(at('hardlinks/pair-a'), 'same inode, same dir\n');
  await link(at('hardlinks/pair-a'), at('hardlinks/pair-b'));
  await writeFile(at('hardlinks/cross-1'), 'same inode, other dir\n');
  await link(at('hardlinks/cross-1'), at('hardlinks/other/cross-2'));
  await writeSeededFile(`${root}/hardlinks/triple-1`, 700_000, 'triple');
  await link(at('hardlinks/triple-1'), at('hardlinks/other/triple-2'));
  await link(at('hardlinks/triple-1'), at('hardlinks/other/nested/triple-3'));

  // Symlinks: relative, absolute (inside and outside the tree), dangling, to a directory.
  await symlink('../plain/hello.txt', at('links/relative'));
  await symlink(`${root}/plain/hello.txt`, at('links/absolute-inside'));
  await symlink('/nonexistent/absolute/target', at('links/absolute-dangling'));
  await symlink('no/such/file', at('links/dangling'));
  await symlink('../plain/empty-dir', at('links/to-dir'));

  // Special files: mknod applies the umask, so chmod afterwards.
  mknod(at('special/fifo'), S_IFIFO | 0o640, 0, 0);
  mknod(at('special/chardev'), S_IFCHR | 0o600, 1, 7);
  mknod(at('special/blockdev'), S_IFBLK | 0o660, 7, 200);
  await chmod(at('special/fifo'), 0o640);
  await chmod(at('special/chardev'), 0o600);
  await chmod(at('special/blockdev'), 0o660);
  checkDevice(makedev(1, 7));

  // Sparse files: data islands in a large hole, a trailing hole, and nothing but a hole.
  const sparse = [
    {
      path: 'sparse/islands',
      size: 48 * MiB,
      dataBytes: await writeSparse(`${root}/sparse/islands`, 48 * MiB, [
        { offset: 0, data: Buffer.alloc(64 * 1024, 0x61) },
        { offset: 20 * MiB, data: Buffer.alloc(64 * 1024, 0x62) },
      ]),
    },
    {
      path: 'sparse/all-hole',
      size: 16 * MiB,
      dataBytes: await writeSparse(`${root}/sparse/all-hole`, 16 * MiB, []),
    },
  ];

  // Extended attributes: text, binary (every byte value) and empty values, on a file and a dir.
  await writeFile(at('xattrs/file'), 'has attributes\n');
  lsetxattr(at('xattrs/file'), Buffer.from('user.comment'), Buffer.from('a text value'));
  lsetxattr(
    at('xattrs/file'),
    Buffer.from('user.binary'),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  );
  lsetxattr(at('xattrs/file'), Buffer.from('user.empty'), Buffer.alloc(0));
  lsetxattr(at('xattrs/dir'), Buffer.from('user.on-a-dir'), Buffer.from('dir value'));

  // POSIX ACLs (set last: chmod would rewrite the mask entry).
  await writeFile(at('acl/file'), 'has an acl\n');
  lsetxattr(at('acl/file'), Buffer.from('system.posix_acl_access'), SAMPLE_ACL);
  lsetxattr(at('acl/default-dir'), Buffer.from('system.posix_acl_default'), SAMPLE_ACL);

  // Names: not UTF-8, the 255-byte maximum (ASCII and multi-byte), and characters shells hate.
  const nonUtf8Name = Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0xe9, 0xff, 0xfe, 0x80]);
  await writeFile(at('names', nonUtf8Name), 'latin-1 name\n');
  const nonUtf8Dir = Buffer.from([0x64, 0x69, 0x72, 0xc0, 0xaf]);
  await mkdir(at('names', nonUtf8Dir));
  await writeFile(at('names', nonUtf8Dir, 'inside'), 'inside a non-UTF-8 dir\n');
  await writeFile(at('names', 'n'.repeat(255)), 'long ascii name\n');
  await writeFile(at('names', 'é'.repeat(127) + 'x'), 'long two-byte name\n'); // 255 bytes
  for (const odd of [
    'line\nbreak',
    'back\\slash',
    '-starts-with-dash',
    ' spaces ',
    '*?[',
    '日本語',
  ]) {
    await writeFile(at('names', odd), `${odd}\n`);
  }

  // A deep path: 40 levels of 40-byte names (about 1.6 KiB), with a file at the bottom.
  let deep = 'deep';
  for (let i = 0; i < 40; i++) deep += `/${String(i).padStart(2, '0')}${'d'.repeat(38)}`;
  await mkdir(at(deep), { recursive: true });
  await writeFile(at(deep, 'bottom.txt'), 'at the bottom\n');

  // Special mode bits, and no permissions at all.
  await writeFile(at('modes/setuid'), '#!/bin/sh\n');
  await chmod(at('modes/setuid'), 0o4755);
  await writeFile(at('modes/setgid'), '#!/bin/sh\n');
  await chmod(at('modes/setgid'), 0o2711);
  await writeFile(at('modes/no-perms'), 'mode 000\n');
  await chmod(at('modes/no-perms'), 0o000);
  await mkdir(at('modes/sticky-dir'));
  await writeFile(at('modes/sticky-dir/inside'), 'x\n');
  await chmod(at('modes/sticky-dir'), 0o1777);
  await mkdir(at('modes/setgid-dir'));
  await chmod(at('modes/setgid-dir'), 0o2775);
  await mkdir(at('modes/read-only-dir'));
  await writeFile(at('modes/read-only-dir/inside'), 'in a 0555 dir\n');
  await chmod(at('modes/read-only-dir'), 0o555);

  // Owners nobody on this machine has: numeric ids only. chown clears setuid, so mode after.
  await writeFile(at('owners/file'), 'odd owner\n');
  await chown(at('owners/file'), ODD_UID, ODD_GID);
  await chown(at('owners/dir'), ODD_UID, ODD_GID);
  await symlink('file', at('owners/symlink'));
  await lchown(at('owners/symlink'), ODD_UID + 1, ODD_GID + 1);
  await writeFile(at('owners/setuid-owned'), '#!/bin/sh\n');
  await chown(at('owners/setuid-owned'), ODD_UID, ODD_GID);
  await chmod(at('owners/setuid-owned'), 0o6750);
  const oddOwner = [bytesPath('owners/file'), bytesPath('owners/dir')];

  // Times to the nanosecond, before 1970 and after 2038, on files, a symlink and a directory.
  const nsFile = { path: 'times/ns-file', mtimeNs: 1_234_567_890_123_456_789n };
  await writeFile(at(nsFile.path), 'nanoseconds\n');
  setTimesNs(at(nsFile.path), 1_000_000_000_000_000_001n, nsFile.mtimeNs, true);
  await writeFile(at('times/pre-1970'), 'before the epoch\n');
  setTimesNs(at('times/pre-1970'), -1_500_000_001n, -86_400_000_000_007n, true);
  await writeFile(at('times/post-2038'), 'after 2038\n');
  setTimesNs(at('times/post-2038'), 4_102_444_800_999_999_999n, 4_102_444_800_000_000_001n, true);
  await symlink('ns-file', at('times/ns-symlink'));
  setTimesNs(at('times/ns-symlink'), 1_111_111_111_111_111_111n, 1_222_222_222_222_222_222n, true);
  await writeFile(at('times/ns-dir/inside'), 'x\n');
  setTimesNs(at('times/ns-dir'), 1_333_333_333_333_333_333n, 1_444_444_444_444_444_444n, true);

  return { root, sparse, nsFile, oddOwner, nonUtf8Name };
}

function checkDevice(rdev: bigint): void {
  if (major(rdev) !== 1 || minor(rdev) !== 7) throw new Error('makedev/major/minor disagree');
}
