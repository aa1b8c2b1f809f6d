import assert from 'node:assert/strict';
import { closeSync, lstatSync, openSync, writeSync } from 'node:fs';
import { chmod, chown, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError } from '../../core/index.js';
import { applyFileMetadata, applyMetadata } from './apply-metadata.js';
import { createSpecial, createSymlink } from './create-special.js';
import type { FsEntry } from './fs-entry.js';
import { lsetxattr, setTimesNs } from './native.js';
import { statEntry } from './stat-entry.js';

const b = (s: string): Buffer => Buffer.from(s);

/** A temp dir on a file system with user xattrs: /tmp is tmpfs on some hosts, /var/tmp rarely. */
async function xattrTempDir(): Promise<string | undefined> {
  for (const base of [tmpdir(), '/var/tmp']) {
    const dir = await mkdtemp(join(base, 'holdfast-apply-'));
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

/** The fields applyMetadata restores, for comparing two entries. */
function restored(entry: FsEntry) {
  return {
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    atimeNs: entry.atimeNs,
    mtimeNs: entry.mtimeNs,
    xattrs: entry.xattrs,
  };
}

void describe('applyMetadata', () => {
  let root = '';
  let xattrs = true;
  before(async () => {
    const capable = await xattrTempDir();
    xattrs = capable !== undefined;
    root = capable ?? (await mkdtemp(join(tmpdir(), 'holdfast-apply-')));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('copies owner, setuid mode, xattrs and nanosecond times from another file', async (t) => {
    if (!xattrs) return t.skip('no file system here supports user xattrs');
    const source = b(join(root, 'source'));
    await writeFile(source, 'original');
    await chown(source, 1234, 5678);
    await chmod(source, 0o4751);
    lsetxattr(source, b('user.b'), Buffer.from([0, 0xff]));
    lsetxattr(source, b('user.a'), b('first'));
    setTimesNs(source, 1_111_111_111_111_111_111n, 1_222_222_222_222_222_222n, true);
    const original = await statEntry(source);
    assert.deepEqual(
      original.xattrs?.map((x) => x.name.toString()),
      ['user.a', 'user.b'],
    );

    const copy = b(join(root, 'copy'));
    await writeFile(copy, 'original');
    await applyMetadata(copy, original, { owner: true });
    assert.deepEqual(restored(await statEntry(copy)), restored(original));
  });

  void it('applies the same metadata through an open descriptor (applyFileMetadata)', async (t) => {
    if (!xattrs) return t.skip('no file system here supports user xattrs');
    const source = b(join(root, 'fd-source'));
    await writeFile(source, 'content');
    await chown(source, 2345, 6789);
    await chmod(source, 0o2750);
    lsetxattr(source, b('user.fd'), b('value'));
    setTimesNs(source, 1_333_333_333_333_333_333n, 1_444_444_444_444_444_444n, true);
    const original = await statEntry(source);

    const copy = b(join(root, 'fd-copy'));
    const fd = openSync(copy, 'w', 0o600);
    try {
      writeSync(fd, 'content');
      applyFileMetadata(fd, copy, original, { owner: true });
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(restored(await statEntry(copy)), restored(original));
  });

  void it('keeps the current owner when owner is false', async () => {
    const source = b(join(root, 'foreign'));
    await writeFile(source, '');
    await chown(source, 4321, 4321);
    const copy = b(join(root, 'foreign-copy'));
    await writeFile(copy, '');
    await applyMetadata(copy, await statEntry(source), { owner: false });
    const st = lstatSync(copy);
    assert.equal(st.uid, process.getuid!());
  });

  void it('restores a read-only directory and a symlink without touching its target', async () => {
    const dirSource = b(join(root, 'dir-source'));
    await mkdir(dirSource, { mode: 0o755 });
    await chmod(dirSource, 0o555);
    setTimesNs(dirSource, 5n, 1_000_000_007n, true);
    const dirCopy = b(join(root, 'dir-copy'));
    await mkdir(dirCopy);
    await applyMetadata(dirCopy, await statEntry(dirSource), { owner: true });
    assert.deepEqual(restored(await statEntry(dirCopy)), restored(await statEntry(dirSource)));

    const target = b(join(root, 'link-target'));
    await writeFile(target, '');
    const before = lstatSync(target, { bigint: true });
    const linkSource = b(join(root, 'link-source'));
    await symlink(target, linkSource);
    await lchown(linkSource, 77, 88);
    setTimesNs(linkSource, 1_000_000_001n, 2_000_000_002n, true);
    // One statEntry only: its readlink is an access that may update the link's atime.
    const linkEntry = await statEntry(linkSource);
    const linkCopy = b(join(root, 'link-copy'));
    await createSymlink(target, linkCopy);
    await applyMetadata(linkCopy, linkEntry, { owner: true });
    const copied = await statEntry(linkCopy);
    assert.deepEqual(restored(copied), restored(linkEntry));
    assert.deepEqual(copied.linkTarget, target);
    const after = lstatSync(target, { bigint: true });
    assert.equal(after.uid, before.uid);
    assert.equal(after.mtimeNs, before.mtimeNs);
  });

  void it('names the path and attribute when an xattr cannot be set', async () => {
    const link = b(join(root, 'xattr-link'));
    await createSymlink(b('anywhere'), link);
    const meta = {
      ...(await statEntry(link)),
      xattrs: [{ name: b('user.refused'), value: b('1') }],
    };
    // Linux refuses user.* attributes on symlinks.
    await assert.rejects(applyMetadata(link, meta, { owner: false }), (err) => {
      assert.ok(isHoldfastError(err, 'FAILURE'));
      assert.match(err.message, /xattr-link: cannot set extended attribute user\.refused/);
      assert.equal((err.cause as { code?: string }).code, 'EPERM');
      return true;
    });
  });

  void it('creates fifos, sockets and devices that round-trip through statEntry', async (t) => {
    for (const type of ['fifo', 'socket'] as const) {
      const path = b(join(root, type));
      createSpecial(path, { type, mode: 0o640 });
      const meta = { type, mode: 0o640, uid: 0, gid: 0, atimeNs: 10n, mtimeNs: 20n };
      await applyMetadata(path, meta, { owner: true });
      const entry = await statEntry(path);
      assert.equal(entry.type, type);
      assert.equal(entry.mode, 0o640);
      assert.equal(entry.mtimeNs, 20n);
    }
    const devNull = await statEntry(b('/dev/null'));
    const path = b(join(root, 'null'));
    try {
      createSpecial(path, devNull);
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code === 'EPERM')
        return t.skip('no CAP_MKNOD');
      throw err;
    }
    const entry = await statEntry(path);
    assert.equal(entry.type, 'chardev');
    assert.equal(entry.rdev, devNull.rdev);
    assert.throws(
      () => createSpecial(path, devNull),
      (err) => isHoldfastError(err, 'FAILURE'),
    );
    assert.throws(
      () => createSpecial(b(join(root, 'x')), { type: 'dev', mode: 0o600 }),
      (err) => isHoldfastError(err, 'INTEGRITY'),
    );
  });
});
