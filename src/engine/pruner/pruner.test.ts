import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { BlobId, SnapshotId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { encodeTree, type Node } from '../format/index.js';
import { RepositoryLock } from '../lock/index.js';
import { Repository } from '../repository/index.js';
import { checkRepository } from '../checker/index.js';
import { prune } from './pruner.js';

const cheap = { N: 1024, r: 8, p: 1 };

function fileNode(name: string, content: BlobId[]): Node {
  return {
    name: Buffer.from(name),
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtimeNs: 1n,
    atimeNs: 1n,
    ctimeNs: 1n,
    inode: 1n,
    deviceId: 1n,
    links: 1,
    size: 0,
    content,
  };
}

/** Writes one snapshot of the given data blobs through the normal write path. */
async function snapshotOf(repo: Repository, blobs: Buffer[]): Promise<SnapshotId> {
  const w = repo.writer();
  const ids = [];
  for (const b of blobs) ids.push((await w.save('data', b)).id);
  const tree = (await w.save('tree', encodeTree({ nodes: [fileNode('f', ids)] }))).id;
  await w.flush();
  return repo.saveSnapshot({
    time: new Date().toISOString(),
    tree,
    paths: ['/f'],
    hostname: 'h',
    username: 'u',
    program_version: 't',
  });
}

async function packCount(store: MemoryStore): Promise<number> {
  const names = [];
  for await (const o of store.list('pack')) names.push(o.name);
  return names.length;
}

async function reopen(store: MemoryStore): Promise<Repository> {
  const r = await Repository.open(store, 'pw');
  await r.loadIndex();
  return r;
}

void test('unreferenced data waits while an operation that may use it runs, and a snapshot it writes keeps it', async () => {
  const store = new MemoryStore();
  let repo = await Repository.init(store, 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: cheap,
  });
  const shared = randomBytes(1000);
  const old = await snapshotOf(repo, [shared, randomBytes(1000)]);
  const kept = await snapshotOf(repo, [randomBytes(1000)]);
  await store.delete('snapshot', old); // forget

  // A backup is running: it took its lock before reading the index, so it may reuse `shared`.
  repo = await reopen(store);
  const backupLock = await RepositoryLock.acquire(repo, { mode: 'shared' });
  const pruneLock = await RepositoryLock.acquire(repo, { mode: 'prune' });
  const first = await prune({ repo, session: pruneLock.session });
  assert.equal(first.deletedPacks, 0, 'nothing deleted while the backup may still use it');
  assert.ok(first.waitingPacks >= 2);
  assert.deepEqual(first.waitingFor, [backupLock.session]);

  // The backup finishes with a snapshot reusing `shared`, through its old view of the index.
  const writer = repo.writer();
  const reused = (await writer.save('data', shared)).id;
  assert.equal(
    (await writer.save('data', shared)).added,
    false,
    'deduplicated against the old index',
  );
  const tree = (await writer.save('tree', encodeTree({ nodes: [fileNode('g', [reused])] }))).id;
  await writer.flush();
  await repo.saveSnapshot({
    time: new Date().toISOString(),
    tree,
    paths: ['/g'],
    hostname: 'h',
    username: 'u',
    program_version: 't',
  });
  await backupLock.release();

  const second = await prune({ repo: await reopen(store), session: pruneLock.session });
  assert.ok(second.resurrectedPacks >= 1, 'the pack holding the reused blob is put back');
  assert.ok(second.deletedPacks >= 1, 'the rest is deleted');
  await pruneLock.release();

  const after = await reopen(store);
  const check = await checkRepository({ repo: after, readData: true });
  assert.deepEqual(check.errors, []);
  assert.deepEqual(await after.loadBlob('data', reused), shared);
  void kept;
  assert.ok((await packCount(store)) >= 2);
});

void test('with no other operation running, prune deletes in one run and is idempotent', async () => {
  const store = new MemoryStore();
  const repo = await Repository.init(store, 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: cheap,
  });
  const gone = await snapshotOf(repo, [randomBytes(5000)]);
  await snapshotOf(repo, [randomBytes(5000)]);
  await store.delete('snapshot', gone);
  const r1 = await prune({ repo: await reopen(store), session: 'aa'.repeat(16) });
  assert.equal(r1.deletedPacks, 2);
  assert.equal(r1.waitingPacks, 0);
  const r2 = await prune({ repo: await reopen(store), session: 'aa'.repeat(16) });
  assert.equal(r2.deletedPacks, 0);
  assert.deepEqual(
    (await checkRepository({ repo: await reopen(store), readData: true })).errors,
    [],
  );
});
