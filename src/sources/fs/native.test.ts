import assert from 'node:assert/strict';
import {
  constants,
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  futimens,
  lgetxattr,
  llistxattr,
  lsetxattr,
  major,
  makedev,
  minor,
  mknod,
  setFileTimesNs,
  setTimesNs,
  sparseMap,
  tuneAllocator,
  utimensat,
} from './native.js';

const b = (s: string): Buffer => Buffer.from(s);

/** A temp dir on a file system with user xattrs: /tmp is tmpfs on some hosts, /var/tmp rarely. */
async function xattrTempDir(): Promise<string | undefined> {
  for (const base of [tmpdir(), '/var/tmp']) {
    const dir = await mkdtemp(join(base, 'holdfast-native-'));
    await writeFile(join(dir, 'probe'), '');
    try {
      lsetxattr(b(join(dir, 'probe')), b('user.probe'), b('1'));
      await rm(join(dir, 'probe'));
      return dir;
    } catch {
      await rm(dir, { recursive: true });
    }
  }
  return undefined;
}

function errorOf(fn: () => unknown): Error & { code?: string; errno?: number; syscall?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected an error');
}

void describe('native addon', () => {
  let dir = '';
  let xattrs = true;
  before(async () => {
    const capable = await xattrTempDir();
    xattrs = capable !== undefined;
    dir = capable ?? (await mkdtemp(join(tmpdir(), 'holdfast-native-')));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('round-trips user xattrs on a file, including binary and empty values', async (t) => {
    if (!xattrs) return t.skip('no file system here supports user xattrs');
    const file = b(join(dir, 'xattr-file'));
    await writeFile(file, 'content');
    const binary = Buffer.from([0, 1, 0xff, 0x80, 0]);
    lsetxattr(file, b('user.text'), b('hello'));
    lsetxattr(file, b('user.binary'), binary);
    lsetxattr(file, b('user.empty'), Buffer.alloc(0));
    const names = llistxattr(file)
      .map((n) => n.toString())
      .sort();
    assert.deepEqual(names, ['user.binary', 'user.empty', 'user.text']);
    assert.deepEqual(lgetxattr(file, b('user.text')), b('hello'));
    assert.deepEqual(lgetxattr(file, b('user.binary')), binary);
    assert.deepEqual(lgetxattr(file, b('user.empty')), Buffer.alloc(0));
    lsetxattr(file, b('user.text'), b('replaced, and longer than before'));
    assert.deepEqual(lgetxattr(file, b('user.text')), b('replaced, and longer than before'));
    assert.equal(errorOf(() => lgetxattr(file, b('user.missing'))).code, 'ENODATA');
  });

  void it('never follows symlinks for xattrs', async (t) => {
    if (!xattrs) return t.skip('no file system here supports user xattrs');
    const target = join(dir, 'xattr-target');
    const link = b(join(dir, 'xattr-link'));
    await writeFile(target, 'content');
    await symlink(target, link);
    lsetxattr(b(target), b('user.on-target'), b('1'));
    // Through the link we see the link's own (empty) list, not the target's attribute.
    assert.deepEqual(
      llistxattr(link).filter((n) => n.toString().startsWith('user.')),
      [],
    );
    assert.equal(errorOf(() => lgetxattr(link, b('user.on-target'))).code, 'ENODATA');
    // Linux refuses user.* on symlinks; a following call would have set it on the target.
    assert.equal(errorOf(() => lsetxattr(link, b('user.x'), b('1'))).code, 'EPERM');
    assert.deepEqual(llistxattr(b(target)).map(String), ['user.on-target']);
  });

  void it('round-trips a trusted.* xattr on a symlink itself (needs CAP_SYS_ADMIN)', async (t) => {
    if (!xattrs) return t.skip('no file system here supports xattrs');
    const link = b(join(dir, 'trusted-link'));
    await symlink('nowhere', link);
    try {
      lsetxattr(link, b('trusted.holdfast'), b('on the link'));
    } catch (err) {
      if ((err as { code?: string }).code === 'EPERM') return t.skip('no CAP_SYS_ADMIN');
      throw err;
    }
    assert.ok(llistxattr(link).some((n) => n.equals(b('trusted.holdfast'))));
    assert.deepEqual(lgetxattr(link, b('trusted.holdfast')), b('on the link'));
  });

  void it('throws Node-style errors with errno codes', () => {
    const err = errorOf(() => llistxattr(b(join(dir, 'does-not-exist'))));
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.errno, -osConstants.errno.ENOENT);
    assert.equal(err.syscall, 'llistxattr');
    assert.match(err.message, /^ENOENT: .*llistxattr '.*does-not-exist'$/);
    const nul = errorOf(() => llistxattr(Buffer.from('a\0b')));
    assert.ok(nul instanceof TypeError);
    assert.equal(nul.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(
      errorOf(() => llistxattr('/tmp' as unknown as Buffer)).code,
      'ERR_INVALID_ARG_TYPE',
    );
  });

  void it('sets nanosecond times exactly, on the link itself with noFollow', async () => {
    const file = b(join(dir, 'times-file'));
    const link = b(join(dir, 'times-link'));
    await writeFile(file, 'x');
    await symlink(file, link);
    utimensat(file, 1_600_000_000n, 123_456_789, 1_500_000_000, 987_654_321, false);
    let st = lstatSync(file, { bigint: true });
    assert.equal(st.atimeNs, 1_600_000_000_123_456_789n);
    assert.equal(st.mtimeNs, 1_500_000_000_987_654_321n);

    setTimesNs(link, 1_000_000_000_000_000_001n, 1_234_567_890_000_000_999n, true);
    const linkSt = lstatSync(link, { bigint: true });
    assert.equal(linkSt.atimeNs, 1_000_000_000_000_000_001n);
    assert.equal(linkSt.mtimeNs, 1_234_567_890_000_000_999n);
    st = lstatSync(file, { bigint: true });
    assert.equal(st.mtimeNs, 1_500_000_000_987_654_321n, 'the target is untouched');

    // Before 1970: seconds go negative, nanoseconds stay within 0..999999999.
    setTimesNs(file, -1n, -86_400_000_000_001n, false);
    st = lstatSync(file, { bigint: true });
    assert.equal(st.atimeNs, -1n);
    assert.equal(st.mtimeNs, -86_400_000_000_001n);

    assert.equal(
      errorOf(() => utimensat(file, 0, 1_000_000_000, 0, 0, false)).code,
      'ERR_OUT_OF_RANGE',
    );
  });

  void it('sets nanosecond times through a descriptor (futimens), before 1970 too', async () => {
    const file = b(join(dir, 'times-fd'));
    await writeFile(file, 'x');
    const fd = openSync(file, 'r+');
    try {
      setFileTimesNs(fd, 1_600_000_000_123_456_789n, -86_400_000_000_001n);
      const st = fstatSync(fd, { bigint: true });
      assert.equal(st.atimeNs, 1_600_000_000_123_456_789n);
      assert.equal(st.mtimeNs, -86_400_000_000_001n);
    } finally {
      closeSync(fd);
    }
    const closed = errorOf(() => futimens(fd, 0, 0, 0, 0));
    assert.equal(closed.code, 'EBADF');
    assert.match(closed.message, /^EBADF: .*futimens$/);
    assert.equal(errorOf(() => futimens(-1, 0, 0, 0, 0)).code, 'ERR_OUT_OF_RANGE');
    assert.equal(errorOf(() => futimens(fd, 0, 0, 0, 1_000_000_000)).code, 'ERR_OUT_OF_RANGE');
  });

  void it('creates fifos and devices with mknod', (t) => {
    const fifo = b(join(dir, 'fifo'));
    mknod(fifo, constants.S_IFIFO | 0o600, 0, 0);
    assert.ok(lstatSync(fifo).isFIFO());
    assert.equal(errorOf(() => mknod(fifo, constants.S_IFIFO | 0o600, 0, 0)).code, 'EEXIST');

    const dev = b(join(dir, 'null'));
    try {
      mknod(dev, constants.S_IFCHR | 0o666, 1, 3);
    } catch (err) {
      if ((err as { code?: string }).code === 'EPERM') return t.skip('no CAP_MKNOD');
      throw err;
    }
    const st = lstatSync(dev, { bigint: true });
    assert.ok(st.isCharacterDevice());
    assert.equal(major(st.rdev), 1);
    assert.equal(minor(st.rdev), 3);
  });

  void it('encodes device numbers like stat does', () => {
    const st = lstatSync('/dev/null', { bigint: true });
    assert.equal(makedev(major(st.rdev), minor(st.rdev)), st.rdev);
    assert.equal(major(makedev(259, 70000)), 259);
    assert.equal(minor(makedev(259, 70000)), 70000);
    assert.equal(major(Number(makedev(8, 1))), 8);
  });

  void it('maps the data regions of a sparse file and keeps the file offset', () => {
    const path = join(dir, 'sparse');
    const MiB = 1024 * 1024;
    const fd = openSync(path, 'w+');
    try {
      ftruncateSync(fd, 16 * MiB);
      writeSync(fd, Buffer.from('0123456789ABCDEF'), 0, 16, 0);
      writeSync(fd, Buffer.alloc(4096, 0x61), 0, 4096, 8 * MiB);
      const head = Buffer.alloc(10);
      readSync(fd, head, 0, 10, null); // file offset now 10

      const regions = sparseMap(fd, 16 * MiB);
      for (const [offset, length] of [
        [0, 16],
        [8 * MiB, 4096],
      ] as const) {
        assert.ok(
          regions.some(([o, l]) => o <= offset && offset + length <= o + l),
          `[${offset}, ${length}] is inside a data region: ${JSON.stringify(regions)}`,
        );
      }
      const dataBytes = regions.reduce((n, [, l]) => n + l, 0);
      assert.ok(dataBytes < 2 * MiB, `holes are reported: ${JSON.stringify(regions)}`);
      for (let i = 1; i < regions.length; i++) {
        const [prevOffset, prevLength] = regions[i - 1]!;
        assert.ok(prevOffset + prevLength <= regions[i]![0], 'sorted and disjoint');
      }

      const next = Buffer.alloc(1);
      readSync(fd, next, 0, 1, null);
      assert.equal(next.toString(), 'A', 'the file offset was restored');

      // The map covers only the given size, even if the file is longer.
      assert.deepEqual(sparseMap(fd, 8), [[0, 8]]);
      assert.deepEqual(sparseMap(fd, 0), []);
    } finally {
      closeSync(fd);
    }
  });

  void it('maps an all-hole file to no regions', async () => {
    const path = join(dir, 'hole');
    await writeFile(path, '');
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, 1024 * 1024);
      assert.deepEqual(sparseMap(fd, 1024 * 1024), []);
    } finally {
      closeSync(fd);
    }
  });

  void it('tunes the C library allocator where it is glibc, and checks its arguments', () => {
    const MiB = 1024 * 1024;
    const { header } = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
    assert.equal(
      tuneAllocator(64 * MiB, 256 * MiB, 64 * MiB),
      header.glibcVersionRuntime !== undefined,
    );
    const outOfRange: [number, number, number][] = [
      [-1, 256 * MiB, 64 * MiB],
      [64 * MiB, 2 ** 31, 64 * MiB],
      [64 * MiB, 256 * MiB, 0.5],
    ];
    for (const args of outOfRange) {
      const err = errorOf(() => tuneAllocator(...args));
      assert.ok(err instanceof RangeError, String(args));
      assert.equal(err.code, 'ERR_OUT_OF_RANGE', String(args));
    }
    assert.equal(
      errorOf(() => tuneAllocator('1' as unknown as number, 0, 0)).code,
      'ERR_INVALID_ARG_TYPE',
    );
  });
});
