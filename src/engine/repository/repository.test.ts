import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { isHoldfastError, type BlobId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { encodeTree, type Tree } from '../format/index.js';
import { Repository } from './repository.js';

const owner = { username: 'u', hostname: 'h' };
const cheap = { N: 1024, r: 8, p: 1 };

async function fresh(): Promise<{ store: MemoryStore; repo: Repository }> {
  const store = new MemoryStore();
  const repo = await Repository.init(store, 'pw', {
    owner,
    kdfCost: cheap,
    packSize: 4 * 1024 * 1024,
  });
  return { store, repo };
}

void test('init refuses an existing repository; open needs the right password', async () => {
  const { store } = await fresh();
  await assert.rejects(Repository.init(store, 'pw', { owner, kdfCost: cheap }), (e) =>
    isHoldfastError(e, 'REPOSITORY_EXISTS'),
  );
  await assert.rejects(Repository.open(store, 'wrong'), (e) =>
    isHoldfastError(e, 'WRONG_PASSWORD'),
  );
  await assert.rejects(Repository.open(new MemoryStore(), 'pw'), (e) =>
    isHoldfastError(e, 'REPOSITORY_NOT_FOUND'),
  );
  const again = await Repository.open(store, 'pw');
  assert.equal(again.config.version, 1);
});

void test('a second key opens the same master key', async () => {
  const { store, repo } = await fresh();
  await repo.addKey('other', owner, cheap);
  const viaOther = await Repository.open(store, 'other');
  assert.equal(viaOther.config.id, repo.config.id);
});

void test('blobs written through the writer are deduplicated, packed, indexed and read back', async () => {
  const { store, repo } = await fresh();
  const writer = repo.writer();
  const data = Array.from({ length: 40 }, () => randomBytes(256 * 1024));
  const first = await Promise.all(data.map((d) => writer.save('data', d)));
  const dup = await writer.save('data', Buffer.from(data[0]!));
  assert.equal(dup.added, false);
  assert.equal(dup.id, first[0]!.id);
  const stats = await writer.flush();
  assert.equal(stats.dataBlobs, 40);
  assert.ok(stats.packsWritten >= 2, 'small pack size splits into several packs');
  // A new session sees everything through the index files alone.
  const reopened = await Repository.open(store, 'pw');
  await reopened.loadIndex();
  assert.equal(reopened.index.size, 40);
  for (let i = 0; i < data.length; i++)
    assert.deepEqual(await reopened.loadBlob('data', first[i]!.id), data[i]);
});

void test('data and tree blobs never share a pack', async () => {
  const { store, repo } = await fresh();
  const w = repo.writer();
  await w.save('data', Buffer.from('d'));
  await w.save('tree', Buffer.from('{"nodes":[]}'));
  await w.flush();
  const packs = [];
  for await (const p of store.list('pack')) packs.push(p.name);
  assert.equal(packs.length, 2);
});

void test('trees read at once, small and larger than the reused buffer, each decode to their own', async () => {
  const { store, repo } = await fresh();
  const writer = repo.writer();
  const hexIds = (n: number): BlobId[] =>
    Array.from({ length: n }, () => randomBytes(32).toString('hex') as BlobId);
  // 20,000 ids: ≈ 1.3 MB of JSON, more than the reader's 1 MiB buffer holds.
  const trees: Tree[] = [1, 3, 50, 20_000, 7, 400].map((n) => ({ parts: hexIds(n) }));
  const saved = await Promise.all(trees.map((t) => writer.save('tree', encodeTree(t))));
  await writer.flush();
  const reopened = await Repository.open(store, 'pw');
  await reopened.loadIndex();
  for (let round = 0; round < 2; round++) {
    const loaded = await Promise.all(saved.map((s) => reopened.loadTree(s.id)));
    assert.deepEqual(loaded, trees);
  }
});

void test('workerThreads: one per core (at most 8) unless given; below 1 is refused', async () => {
  const { store } = await fresh();
  const cores = availableParallelism();
  assert.equal((await Repository.open(store, 'pw')).workerThreads, Math.min(cores, 8));
  assert.equal((await Repository.open(store, 'pw', { workerThreads: 12 })).workerThreads, 12);
  for (const bad of [0, -1, 1.5, Number.NaN])
    await assert.rejects(Repository.open(store, 'pw', { workerThreads: bad }), (e) =>
      isHoldfastError(e, 'USAGE'),
    );
});
