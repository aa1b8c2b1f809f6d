/**
 * End to end: a tree with every kind of file metadata is backed up and restored, and two
 * independent oracles agree the restore equals the source — rsync -aHAX --checksum (content,
 * hardlinks, ACLs, xattrs, owners, modes, devices, symlinks) and an lstat walk (nanosecond
 * mtimes, sparse allocation).
 */
import assert from 'node:assert/strict';
import { lchown, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lsetxattr, setTimesNs } from '../../sources/index.js';
import { CliRepo } from '../../testing/cli-harness.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import {
  buildMetadataTree,
  bytesPath,
  ODD_GID,
  ODD_UID,
  posixAcl,
  type MetadataTree,
} from '../../testing/tree-builder.js';
import { mtimeDifferences, rsyncDifferences } from '../../testing/tree-compare.js';

const ACL_WITHOUT_GROUP = [
  { tag: 'user_obj', perm: 6 },
  { tag: 'user', perm: 6, id: ODD_UID },
  { tag: 'group_obj', perm: 4 },
  { tag: 'mask', perm: 6 },
  { tag: 'other', perm: 0 },
] as const;

void describe('metadata round trip', () => {
  let tmp: string;
  let tree: MetadataTree;
  let restored: string;

  before(async () => {
    tmp = await makeTempDir('meta');
    const src = join(tmp, 'src');
    await mkdir(src);
    tree = await buildMetadataTree(src);
    const repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
    const summary = await repo.backup([src]);
    assert.ok(summary.files_new > 20, `files_new ${summary.files_new}`);
    const target = join(tmp, 'restore');
    await repo.ok(['restore', 'latest', '--target', target]);
    // Snapshots mirror absolute paths: the source reappears under the target.
    restored = join(target, src);
  });
  after(() => removeTempDir(tmp));

  void it('rsync -aHAX --checksum finds no difference', async () => {
    assert.equal(await rsyncDifferences(tree.root, restored), '');
  });

  void it('restores every mtime to the nanosecond, including dirs and symlinks', async () => {
    assert.deepEqual(await mtimeDifferences(tree.root, restored), []);
    const ns = await lstat(join(restored, tree.nsFile.path), { bigint: true });
    assert.equal(ns.mtimeNs, tree.nsFile.mtimeNs);
  });

  void it('restores sparse files sparse', async () => {
    for (const { path, size, dataBytes } of tree.sparse) {
      const st = await lstat(join(restored, path));
      assert.equal(st.size, size, path);
      // Allocation may round up to blocks and extents, but never towards the apparent size.
      const allocated = st.blocks * 512;
      assert.ok(
        allocated <= dataBytes + 1024 * 1024,
        `${path}: ${allocated} bytes allocated for ${dataBytes} bytes of data in ${size}`,
      );
    }
  });

  void it('keeps numeric owners, hardlinks, devices and non-UTF-8 names', async () => {
    for (const rel of tree.oddOwner) {
      const st = await lstat(bytesPath(restored, rel));
      assert.deepEqual([st.uid, st.gid], [ODD_UID, ODD_GID], rel.toString());
    }
    const triple = await lstat(join(restored, 'hardlinks/triple-1'));
    assert.equal(triple.nlink, 3);
    const nested = await lstat(join(restored, 'hardlinks/other/nested/triple-3'));
    assert.equal(nested.ino, triple.ino);
    const dev = await lstat(join(restored, 'special/chardev'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, (await lstat(join(tree.root, 'special/chardev'))).rdev);
    assert.ok((await lstat(join(restored, 'special/fifo'))).isFIFO());
    const names = await readdir(bytesPath(restored, 'names'), { encoding: 'buffer' });
    assert.ok(names.some((n) => n.equals(tree.nonUtf8Name)));
  });

  // Last, because it alters the restore: the oracles must see the differences they guard.
  void it('the oracles notice a changed xattr, ACL, owner and nanosecond', async () => {
    const file = Buffer.from(join(restored, 'xattrs/file'));
    lsetxattr(file, Buffer.from('user.comment'), Buffer.from('a text valuE'));
    const acl = Buffer.from(join(restored, 'acl/file'));
    lsetxattr(acl, Buffer.from('system.posix_acl_access'), posixAcl(ACL_WITHOUT_GROUP));
    await lchown(join(restored, 'owners/symlink'), 0, 0);
    const ns = Buffer.from(join(restored, tree.nsFile.path));
    setTimesNs(ns, tree.nsFile.mtimeNs, tree.nsFile.mtimeNs + 1n, true);
    const report = await rsyncDifferences(tree.root, restored);
    for (const path of ['xattrs/file', 'acl/file', 'owners/symlink']) {
      assert.match(report, new RegExp(` ${path}( -> .*)?$`, 'm'), report);
    }
    assert.deepEqual(await mtimeDifferences(tree.root, restored), [
      `${tree.nsFile.path}: mtime ${tree.nsFile.mtimeNs} ≠ ${tree.nsFile.mtimeNs + 1n}`,
    ]);
  });
});
