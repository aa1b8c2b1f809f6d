import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { SnapshotId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { fileNode } from '../../testing/file-node.js';
import { encodeTree } from '../format/index.js';
import { RepositoryLock } from '../lock/index.js';
import { keepReusedPacksIndexed, Repository } from '../repository/index.js';
import { checkRepository } from '../checker/index.js';
import { prune } from './pruner.js';

const cheap = { N: 1024, r: 8, p: 1 };

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
  assert.ok(
    (await keepReusedPacksIndexed(repo, tree)) >= 1,
    'the backup re-indexes what it reused',
  );
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
  assert.equal(second.resurrectedPacks, 0, 'nothing to put back: the backup re-indexed it');
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

void test('a pack unindexed twice waits for the newest operation, not the first one to finish', async () => {
  const store = new MemoryStore();
  const owner = { username: 'u', hostname: 'h' };
  await Repository.init(store, 'pw', { owner, kdfCost: cheap, packSize: 4 * 1024 * 1024 });
  // Backup B uploads a full pack; its index is not written yet when prune 1 runs.
  const b = await reopen(store);
  const lockB = await RepositoryLock.acquire(b, { mode: 'shared' });
  const big = randomBytes(5 * 1024 * 1024);
  const wB = b.writer();
  const blob = (await wB.save('data', big)).id;
  await wB.save('data', randomBytes(10)); // forces the full pack out
  while ((await packCount(store)) === 0) await new Promise((r) => setTimeout(r, 10)); // upload lands
  const pruneLock = await RepositoryLock.acquire(b, { mode: 'prune' });
  const p1 = await prune({ repo: await reopen(store), session: pruneLock.session });
  assert.ok(p1.waitingPacks >= 1, 'the in-flight pack waits for B');
  await wB.flush();
  const treeB = (await wB.save('tree', encodeTree({ nodes: [fileNode('b', [blob])] }))).id;
  await wB.flush();
  await keepReusedPacksIndexed(b, treeB);
  const snapB = await b.saveSnapshot({
    time: new Date().toISOString(),
    tree: treeB,
    paths: ['/b'],
    hostname: 'h',
    username: 'u',
    program_version: 't',
  });
  await lockB.release();
  await store.delete('snapshot', snapB); // forgotten

  // Backup C starts, reuses the blob from B's pack; prune 2 runs while C is still going.
  const c = await reopen(store);
  const lockC = await RepositoryLock.acquire(c, { mode: 'shared' });
  const wC = c.writer();
  assert.equal((await wC.save('data', big)).added, false);
  const p2 = await prune({ repo: await reopen(store), session: pruneLock.session });
  assert.equal(p2.deletedPacks >= 0, true);
  assert.ok(
    await store.stat(
      'pack',
      (await reopen(store)).index.lookup(blob)?.packId ?? c.index.lookup(blob)!.packId,
    ),
    'the pack C reuses still exists',
  );
  const treeC = (await wC.save('tree', encodeTree({ nodes: [fileNode('c', [blob])] }))).id;
  await wC.flush();
  await keepReusedPacksIndexed(c, treeC);
  await c.saveSnapshot({
    time: new Date().toISOString(),
    tree: treeC,
    paths: ['/c'],
    hostname: 'h',
    username: 'u',
    program_version: 't',
  });
  await lockC.release();
  await prune({ repo: await reopen(store), session: pruneLock.session });
  await pruneLock.release();
  const after = await reopen(store);
  assert.deepEqual((await checkRepository({ repo: after, readData: true })).errors, []);
  assert.deepEqual(await after.loadBlob('data', blob), big);
});

void test('a snapshot committed right after a prune unindexed its packs is resurrected by the next prune', async () => {
  const store = new MemoryStore();
  await Repository.init(store, 'pw', { owner: { username: 'u', hostname: 'h' }, kdfCost: cheap });
  const b = await reopen(store);
  const lockB = await RepositoryLock.acquire(b, { mode: 'shared' });
  const data = randomBytes(3000);
  const w = b.writer();
  const blob = (await w.save('data', data)).id;
  const tree = (await w.save('tree', encodeTree({ nodes: [fileNode('late', [blob])] }))).id;
  const stats = await w.flush();
  assert.equal(await keepReusedPacksIndexed(b, tree, undefined, stats.indexesWritten), 0);
  // The prune runs after the guard, before the snapshot is visible: B's packs look unused.
  const pruneLock = await RepositoryLock.acquire(b, { mode: 'prune' });
  const p1 = await prune({ repo: await reopen(store), session: pruneLock.session });
  assert.equal(p1.deletedPacks, 0);
  await b.saveSnapshot({
    time: new Date().toISOString(),
    tree,
    paths: ['/late'],
    hostname: 'h',
    username: 'u',
    program_version: 't',
  });
  await lockB.release();
  const p2 = await prune({ repo: await reopen(store), session: pruneLock.session });
  assert.ok(p2.resurrectedPacks >= 2, 'tree and data packs are indexed again');
  assert.equal(p2.deletedPacks, 0);
  await pruneLock.release();
  const after = await reopen(store);
  assert.deepEqual((await checkRepository({ repo: after, readData: true })).errors, []);
  assert.deepEqual(await after.loadBlob('data', blob), data);
});
