/**
 * The local metadata cache under real use cases: a repository in a LocalStore, counted by a
 * CountingStore, opened through a cache the way the CLI opens a remote repository. Each
 * `open()` stands for a new process (a fresh CachingStore over the same cache directory).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SnapshotId } from '../core/index.js';
import { Repository } from '../engine/index.js';
import { LocalStore, openCachingStore } from '../storage/index.js';
import { CountingStore } from '../storage/testing/counting-store.js';
import { writeSeededFile } from '../testing/random-data.js';
import { runBackup } from './backup.js';
import { listSnapshot } from './browse.js';
import { runForget } from './forget.js';
import { runPrune } from './prune.js';
import { withLock } from './with-lock.js';

const PASSWORD = 'pw';
const owner = { username: 'u', hostname: 'h' };

void describe('metadata cache', () => {
  let dir: string;
  let counted: CountingStore;
  let local: LocalStore;
  let cacheRoot: string;
  let repositoryId: string;
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), info: () => {}, debug: () => {} };

  const open = () =>
    Repository.open(counted, PASSWORD, {
      logger,
      cache: (inner, id) => openCachingStore(inner, cacheRoot, id, logger),
    });
  const ls = async (repo: Repository, id: SnapshotId) => {
    const entry = (await repo.listSnapshots()).find((e) => e.id === id)!;
    const paths: string[] = [];
    for await (const n of listSnapshot(repo, entry)) paths.push(n.path);
    return paths;
  };
  const backup = async (path: string) => {
    const repo = await open();
    const r = await withLock(repo, 'shared', undefined, undefined, () =>
      runBackup({ repo, paths: [path], hostname: 'h' }),
    );
    return r.snapshotId!;
  };
  const cached = (kind: string) =>
    openCachingStore(counted, cacheRoot, repositoryId, logger)!.directory.cachedNames(
      kind as 'pack',
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-mcache-'));
    local = new LocalStore(join(dir, 'repo'));
    counted = new CountingStore(local);
    cacheRoot = join(dir, 'cache');
    const repo = await Repository.init(local, PASSWORD, {
      owner,
      kdfCost: { N: 1024, r: 8, p: 1 },
      packSize: 4 * 1024 * 1024,
    });
    repositoryId = repo.config.id;
    for (const name of ['a', 'b']) {
      await mkdir(join(dir, 'data', name, 'sub'), { recursive: true });
      for (let i = 0; i < 5; i++)
        await writeSeededFile(join(dir, 'data', name, 'sub', `f${i}`), 3000 + i, `${name}${i}`);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('a second snapshots, ls and backup download no index, snapshot or tree pack', async () => {
    const first = await backup(join(dir, 'data', 'a'));
    counted.reset();
    const listing = await ls(await open(), first);
    assert.ok(listing.some((p) => p.endsWith('/sub/f4')));
    assert.equal(counted.count('get', 'index'), 0);
    assert.equal(counted.count('get', 'snapshot'), 0);
    assert.equal(counted.count('get', 'pack'), 0);

    counted.reset();
    await backup(join(dir, 'data', 'a'));
    assert.equal(counted.count('get', 'index'), 0);
    assert.equal(counted.count('get', 'snapshot'), 0);
    assert.equal(counted.count('get', 'pack'), 0);
    assert.ok(counted.count('list', 'index') > 0, 'the listings still go to the repository');

    // The same answers without a cache.
    const uncached = await Repository.open(local, PASSWORD);
    assert.deepEqual(await ls(uncached, first), listing);
    assert.deepEqual(warnings, []);
  });

  void it('drops what forget and prune on another client deleted', async () => {
    const gone = await backup(join(dir, 'data', 'b'));
    const kept = await backup(join(dir, 'data', 'a'));
    const cachedPacksBefore = await cached('pack');

    // Another client, without a cache, forgets `gone` and prunes (twice: deletion is two-phase).
    const other = await Repository.open(local, PASSWORD);
    await runForget({ repo: other, policy: {}, snapshots: [gone], timeZone: 'UTC' });
    for (let i = 0; i < 2; i++) {
      const repo = await Repository.open(local, PASSWORD);
      await withLock(repo, 'prune', undefined, undefined, (lock) =>
        runPrune({ repo, lock, maxUnused: 0 }),
      );
    }
    const packsNow = new Set<string>();
    for await (const p of local.list('pack')) packsNow.add(p.name);
    assert.ok(
      cachedPacksBefore.some((p) => !packsNow.has(p)),
      'the prune removed a cached tree pack',
    );

    const repo = await open();
    const ids = (await repo.listSnapshots()).map((e) => e.id);
    assert.ok(!ids.includes(gone) && ids.includes(kept));
    assert.ok(!(await cached('snapshot')).includes(gone));
    await repo.loadIndex();
    for (const p of await cached('pack')) assert.ok(packsNow.has(p), `stale pack ${p} kept`);
    assert.ok((await ls(repo, kept)).some((p) => p.endsWith('/sub/f4')));
    assert.deepEqual(warnings, []);
  });
});
