/**
 * LinkGroups: the first path of each hardlink group comes back byte for byte once restored,
 * across chunk boundaries, for groups told apart by device and inode alone, and only for a
 * group whose first path (not a later one) was restored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkGroups } from './link-groups.js';

const node = (deviceId: bigint, inode: bigint) => ({ deviceId, inode });

void describe('LinkGroups', () => {
  void it('gives back no path before the first path is restored, and its bytes after', () => {
    const groups = new LinkGroups();
    const a = node(2049n, 17n);
    groups.add(a, Buffer.from('/t/dir/first'));
    assert.ok(groups.has(a));
    assert.ok(!groups.has(node(2049n, 18n)));
    assert.equal(groups.restoredPath(a), undefined);

    groups.restored(a, Buffer.from('/t/dir/later')); // a later path restored on its own
    assert.equal(groups.restoredPath(a), undefined);

    groups.restored(a, Buffer.from('/t/dir/first'));
    assert.equal(groups.restoredPath(a)?.toString(), '/t/dir/first');
  });

  void it('keeps the first path: a second add for the group changes nothing', () => {
    const groups = new LinkGroups();
    const a = node(1n, 1n);
    groups.add(a, Buffer.from('/one'));
    groups.add(a, Buffer.from('/two'));
    assert.equal(groups.size, 1);
    groups.restored(a, Buffer.from('/two'));
    assert.equal(groups.restoredPath(a), undefined);
    groups.restored(a, Buffer.from('/one'));
    assert.equal(groups.restoredPath(a)?.toString(), '/one');
  });

  void it('tells groups apart by device and inode, including 64-bit inodes', () => {
    const groups = new LinkGroups();
    const big = 2n ** 63n + 5n;
    const pairs = [node(1n, 2n), node(2n, 1n), node(1n, big), node(2n ** 32n, big)];
    pairs.forEach((p, i) => groups.add(p, Buffer.from(`/p${i}`)));
    assert.equal(groups.size, 4);
    pairs.forEach((p, i) => groups.restored(p, Buffer.from(`/p${i}`)));
    pairs.forEach((p, i) => assert.equal(groups.restoredPath(p)?.toString(), `/p${i}`));
  });

  void it('keeps many paths of every length intact across chunks, the copy its own', () => {
    const groups = new LinkGroups();
    // Lengths 1..4096 and one far larger than a chunk: every boundary case of the chunks.
    const pathFor = (i: number): Buffer => {
      const path = Buffer.alloc(i === 7_778 ? 200_000 : 1 + ((i * 7919) % 4096), i % 251);
      if (path.length >= 4) path.writeUInt32LE(i, path.length - 4);
      return path;
    };
    const given: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      given.push(pathFor(i));
      groups.add(node(7n, BigInt(i)), given[i]!);
    }
    for (const path of given) path.fill(0); // the caller's buffers are reused: copies must hold
    for (let i = 0; i < 20_000; i += 2) {
      groups.restored(node(7n, BigInt(i)), pathFor(i));
      assert.deepEqual(groups.restoredPath(node(7n, BigInt(i))), pathFor(i), `group ${i}`);
      assert.equal(groups.restoredPath(node(7n, BigInt(i + 1))), undefined);
    }
  });
});
