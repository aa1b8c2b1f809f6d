import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../core/index.js';
import { LocalStore } from '../local/local-store.js';
import { MemoryStore } from '../memory/memory-store.js';
import type { ObjectStore } from '../object-store.js';
import {
  collect,
  describeObjectStoreConformance,
  rejectsWithCode,
  testObject,
} from '../testing/conformance.js';
import { CountingStore } from '../testing/counting-store.js';
import { CACHEDIR_TAG, CacheDirectory } from './cache-directory.js';
import { CachingStore } from './caching-store.js';

const REPO_ID = 'ab'.repeat(32);

describeObjectStoreConformance('CachingStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-cache-'));
  const cache = new CacheDirectory(join(dir, 'cache'), REPO_ID, quietLogger());
  return {
    store: new CachingStore(new LocalStore(join(dir, 'repo')), cache),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

function quietLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m), info: () => undefined, debug: () => undefined };
}

void describe('CachingStore', () => {
  let dir: string;
  let n = 0;
  /** A repository in a LocalStore, counted, and a way to open it cached (one call = one process). */
  const fresh = async () => {
    const base = join(dir, `case${++n}`);
    const local = new LocalStore(join(base, 'repo'));
    await local.create();
    const counted = new CountingStore(local);
    const root = join(base, 'cache');
    const open = (inner: ObjectStore = counted) => {
      const logger = quietLogger();
      const cache = new CacheDirectory(root, REPO_ID, logger);
      return { store: new CachingStore(inner, cache), cache, logger };
    };
    return { local, counted, root, open };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-cache-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('serves listed indexes and snapshots from the cache in a later process', async () => {
    const { counted, root, open } = await fresh();
    const index = testObject(1);
    const snap = testObject(2);
    const first = open();
    await first.store.put('index', index.name, index.data);
    await first.store.put('snapshot', snap.name, snap.data);

    counted.reset();
    const second = open();
    await collect(second.store.list('index'));
    await collect(second.store.list('snapshot'));
    assert.deepEqual(await second.store.get('index', index.name), index.data);
    assert.deepEqual(await second.store.get('snapshot', snap.name), snap.data);
    assert.equal(counted.count('get', 'index'), 0);
    assert.equal(counted.count('get', 'snapshot'), 0);
    assert.equal(await readFile(join(root, 'CACHEDIR.TAG'), 'utf8'), CACHEDIR_TAG);
    assert.deepEqual(second.logger.warnings, []);
  });

  void it('fetches an object not yet listed in this process and caches it', async () => {
    const { local, counted, open } = await fresh();
    const snap = testObject(3);
    await local.put('snapshot', snap.name, snap.data);
    const { store } = open();
    assert.deepEqual(await store.get('snapshot', snap.name), snap.data);
    await collect(store.list('snapshot'));
    counted.reset();
    assert.deepEqual(await store.get('snapshot', snap.name), snap.data);
    assert.equal(counted.count('get', 'snapshot'), 0);
  });

  void it('detects a flipped byte and a truncated copy, warns once, and refetches', async () => {
    const { counted, open } = await fresh();
    const a = testObject(4);
    const b = testObject(5);
    const first = open();
    await first.store.put('index', a.name, a.data);
    await first.store.put('index', b.name, b.data);
    const flipped = Buffer.from(a.data);
    flipped[10] = flipped[10]! ^ 0x01;
    await writeFile(first.cache.path('index', a.name), flipped);
    await truncate(first.cache.path('index', b.name), 7);

    counted.reset();
    const second = open();
    await collect(second.store.list('index'));
    assert.deepEqual(await second.store.get('index', a.name), a.data);
    assert.deepEqual(await second.store.get('index', b.name), b.data);
    assert.equal(counted.count('get', 'index'), 2);
    assert.equal(second.logger.warnings.length, 1, second.logger.warnings.join('\n'));
    assert.match(second.logger.warnings[0]!, /cached index [0-9a-f]{64} .* is damaged/);
    // The copies were replaced by good ones: a third process reads them locally again.
    counted.reset();
    const third = open();
    await collect(third.store.list('index'));
    assert.deepEqual(await third.store.get('index', a.name), a.data);
    assert.deepEqual(await third.store.get('index', b.name), b.data);
    assert.equal(counted.count('get', 'index'), 0);
  });

  void it('drops and never serves an object another client deleted', async () => {
    const { local, open } = await fresh();
    const kept = testObject(6);
    const gone = testObject(7);
    const first = open();
    await first.store.put('snapshot', kept.name, kept.data);
    await first.store.put('snapshot', gone.name, gone.data);
    await local.delete('snapshot', gone.name); // forget on another client

    const second = open();
    const listed = await collect(second.store.list('snapshot'));
    assert.deepEqual(
      listed.map((o) => o.name),
      [kept.name],
    );
    assert.deepEqual(await second.cache.cachedNames('snapshot'), [kept.name]);
    await rejectsWithCode(second.store.get('snapshot', gone.name), 'NOT_FOUND');
  });

  void it('does not serve a cached copy the current listing lacks', async () => {
    const { local, open } = await fresh();
    const gone = testObject(8);
    const { store, cache } = open();
    await collect(store.list('snapshot'));
    await store.put('snapshot', gone.name, gone.data);
    await local.delete('snapshot', gone.name);
    // Within one process, the listing is what decides; a copy that survived must not be used.
    await collect(store.list('snapshot'));
    await writeFile(cache.path('snapshot', gone.name), gone.data);
    await rejectsWithCode(store.get('snapshot', gone.name), 'NOT_FOUND');
  });

  void it('caches whole tree packs, serves ranges from them, and never caches data packs', async () => {
    const { counted, open } = await fresh();
    const tree = testObject(9, 64 * 1024);
    const data = testObject(10, 64 * 1024);
    const first = open();
    first.store.markTreePack(tree.name);
    await first.store.put('pack', tree.name, tree.data);
    await first.store.put('pack', data.name, data.data);
    assert.deepEqual(await first.cache.cachedNames('pack'), [tree.name]);

    counted.reset();
    const second = open();
    await second.store.setTreePacks([tree.name]);
    const range = { offset: 1000, length: 5000 };
    assert.deepEqual(
      await second.store.get('pack', tree.name, range),
      tree.data.subarray(1000, 6000),
    );
    assert.deepEqual(await second.store.get('pack', tree.name), tree.data);
    assert.deepEqual(
      await second.store.get('pack', data.name, range),
      data.data.subarray(1000, 6000),
    );
    assert.equal(counted.count('get', 'pack'), 1); // the data pack only
    await rejectsWithCode(
      second.store.get('pack', tree.name, { offset: 64 * 1024 - 10, length: 11 }),
      'INTEGRITY',
    );
  });

  void it('fetches a missing tree pack whole, once for concurrent reads, then reads locally', async () => {
    const { local, counted, open } = await fresh();
    const tree = testObject(11, 32 * 1024);
    await local.put('pack', tree.name, tree.data);
    const { store } = open();
    await store.setTreePacks([tree.name]);
    const read = (i: number) => store.get('pack', tree.name, { offset: i * 100, length: 50 });
    const expected = (i: number) => tree.data.subarray(i * 100, i * 100 + 50);
    const together = await Promise.all([0, 1, 2].map(read));
    together.forEach((bytes, i) => assert.deepEqual(bytes, expected(i)));
    for (let i = 3; i < 6; i++) assert.deepEqual(await read(i), expected(i));
    assert.equal(counted.count('get', 'pack'), 1);
  });

  void it('reads a cached tree pack through one open descriptor, and never past its removal', async () => {
    const { counted, open } = await fresh();
    const tree = testObject(14, 256 * 1024);
    const first = open();
    first.store.markTreePack(tree.name);
    await first.store.put('pack', tree.name, tree.data);
    counted.reset();
    const { store, cache } = open();
    await store.setTreePacks([tree.name]);
    const fds = async () => (await readdir('/proc/self/fd')).length;
    const read = (i: number) => store.get('pack', tree.name, { offset: i * 1000, length: 700 });
    await read(0);
    const opened = await fds();
    for (let i = 1; i < 200; i++)
      assert.deepEqual(await read(i), tree.data.subarray(i * 1000, i * 1000 + 700));
    assert.equal(await fds(), opened, 'no descriptor opened per read');
    // Dropped (a prune elsewhere): its descriptor goes with it; a read is a miss, not old bytes.
    await cache.remove('pack', tree.name);
    assert.equal(await fds(), opened - 1);
    assert.equal(await cache.readPack(tree.name, { offset: 0, length: 10 }), undefined);
    assert.equal(counted.count('get', 'pack'), 0);
    await store.close();
  });

  void it('drops tree packs the loaded index no longer lists, and damaged ones', async () => {
    const { counted, open } = await fresh();
    const old = testObject(12, 4096);
    const kept = testObject(13, 4096);
    const first = open();
    first.store.markTreePack(old.name);
    first.store.markTreePack(kept.name);
    await first.store.put('pack', old.name, old.data);
    await first.store.put('pack', kept.name, kept.data);
    const bad = Buffer.from(kept.data);
    bad[0] = bad[0]! ^ 0xff;
    await writeFile(first.cache.path('pack', kept.name), bad);

    counted.reset();
    const second = open();
    await second.store.setTreePacks([kept.name]); // a prune elsewhere removed `old`
    assert.deepEqual(await second.cache.cachedNames('pack'), [kept.name]);
    assert.deepEqual(
      await second.store.get('pack', kept.name, { offset: 0, length: 10 }),
      kept.data.subarray(0, 10),
    );
    assert.equal(counted.count('get', 'pack'), 1);
    assert.equal(second.logger.warnings.length, 1);
  });

  void it('carries on uncached when the cache cannot be created', async () => {
    n++;
    const repo = new MemoryStore();
    await writeFile(join(dir, `blocker${n}`), 'a file where the cache directory should be');
    const logger = quietLogger();
    const cache = new CacheDirectory(join(dir, `blocker${n}`, 'cache'), REPO_ID, logger);
    const store = new CachingStore(repo, cache);
    const objs = [testObject(14), testObject(15)];
    for (const o of objs) await store.put('index', o.name, o.data);
    await collect(store.list('index'));
    for (const o of objs) assert.deepEqual(await store.get('index', o.name), o.data);
    assert.equal(logger.warnings.length, 1, logger.warnings.join('\n'));
    assert.match(logger.warnings[0]!, /cannot write to the cache .*continuing without caching/);
  });

  void it('reads a read-only cache and carries on when it cannot write to it', async () => {
    const { counted, root, open } = await fresh();
    const cached = testObject(16);
    const later = testObject(17);
    const first = open();
    await first.store.put('snapshot', cached.name, cached.data);
    const ro = await makeReadOnly(join(root, REPO_ID));
    try {
      counted.reset();
      const second = open();
      await second.store.put('snapshot', later.name, later.data);
      await collect(second.store.list('snapshot'));
      assert.deepEqual(await second.store.get('snapshot', cached.name), cached.data);
      assert.deepEqual(await second.store.get('snapshot', later.name), later.data);
      assert.equal(counted.count('get', 'snapshot'), 1); // `later` only: `cached` came from disk
      assert.equal(second.logger.warnings.length, 1, second.logger.warnings.join('\n'));
      assert.match(second.logger.warnings[0]!, /cannot write to the cache/);
    } finally {
      await ro.undo();
    }
  });
});

const execFileP = promisify(execFile);

/**
 * Makes a directory tree unwritable. Mode bits do not stop root, so as root the directories get
 * the immutable attribute (chattr +i) instead, which the test then removes again.
 */
async function makeReadOnly(path: string): Promise<{ undo: () => Promise<void> }> {
  const dirs = [path, ...['tmp', 'index', 'snapshot', 'pack'].map((d) => join(path, d))];
  if (process.getuid?.() !== 0) {
    for (const d of dirs) await chmod(d, 0o500);
    return { undo: async () => void (await Promise.all(dirs.map((d) => chmod(d, 0o700)))) };
  }
  await execFileP('chattr', ['+i', ...dirs]);
  return { undo: async () => void (await execFileP('chattr', ['-i', ...dirs])) };
}
