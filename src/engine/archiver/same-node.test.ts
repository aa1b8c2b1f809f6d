import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlobId } from '../../core/index.js';
import type { Node } from '../format/index.js';
import { sameNode } from './same-node.js';

const base: Node = {
  name: Buffer.from('a'),
  type: 'file',
  mode: 0o644,
  uid: 1,
  gid: 2,
  user: 'u',
  mtimeNs: 10n,
  atimeNs: 11n,
  ctimeNs: 12n,
  inode: 13n,
  deviceId: 14n,
  links: 1,
  size: 3,
  content: ['ab'.repeat(32) as BlobId],
  xattrs: [{ name: Buffer.from('user.x'), value: Buffer.from('v') }],
};

function without(node: Node, key: keyof Node): Node {
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== key)) as unknown as Node;
}

void test('equal nodes, including copies of their buffers, are the same', () => {
  const copy: Node = {
    ...base,
    name: Buffer.from('a'),
    content: [...base.content!],
    xattrs: [{ name: Buffer.from('user.x'), value: Buffer.from('v') }],
  };
  assert.equal(sameNode(base, copy), true);
  // The encoding leaves out empty xattrs and a false sparse flag.
  assert.equal(sameNode({ ...base, xattrs: [] }, without(base, 'xattrs')), true);
  assert.equal(sameNode({ ...base, sparse: false }, base), true);
});

void test('nodes differing only in access time are the same', () => {
  assert.equal(sameNode(base, { ...base, atimeNs: 99n }), true);
});

void test('any differing field makes nodes differ', () => {
  const changes: Partial<Node>[] = [
    { name: Buffer.from('b') },
    { mode: 0o600 },
    { group: 'g' },
    { mtimeNs: 99n },
    { ctimeNs: 99n },
    { inode: 1n },
    { size: 4 },
    { content: [] },
    { subtree: 'cd'.repeat(32) as BlobId },
    { linkTarget: Buffer.from('t') },
    { xattrs: [{ name: Buffer.from('user.x'), value: Buffer.from('w') }] },
    { sparse: true },
  ];
  for (const change of changes)
    assert.equal(
      sameNode(base, { ...base, ...change }),
      false,
      JSON.stringify(Object.keys(change)),
    );
});
