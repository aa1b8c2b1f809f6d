/**
 * The pack journal under real use cases: a backup whose storage goes away for good after some
 * packs were uploaded (a FaultyStore failing every later put permanently, after the retries of a
 * RetryingStore) leaves those packs in the repository but in no index. The next backup on the
 * same machine (same cache directory) indexes them from the journal and uploads only the rest;
 * check --read-data then passes and the snapshot restores byte for byte. A pack whose put stored
 * it but whose answer was lost (the service killed between storing and answering) is adopted too.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HoldfastError } from '../core/index.js';
import { checkRepository, Repository } from '../engine/index.js';
import {
  FaultyStore,
  LocalStore,
  openCachingStore,
  RetryingStore,
  type ObjectStore,
} from '../storage/index.js';
import { writeSeededFile } from '../testing/random-data.js';
import { rsyncDifferences } from '../testing/tree-compare.js';
import { runBackup } from './backup.js';
import { runRestore } from './restore.js';
import { withLock } from './with-lock.js';

const MiB = 1024 * 1024;
const PASSWORD = 'pw';

void describe('pack journal', () => {
  let dir = '';
  let src = '';
  let cacheRoot = '';
  let local: LocalStore;
  const infos: string[] = [];
  const logger = { warn: () => {}, info: (m: string) => infos.push(m), debug: () => {} };

  const open = (store: ObjectStore) =>
    Repository.open(store, PASSWORD, {
      logger,
      cache: (inner, id) => openCachingStore(inner, cacheRoot, id, logger),
    });
  const backup = async (store: ObjectStore) => {
    const repo = await open(store);
    return withLock(repo, 'shared', undefined, undefined, () =>
      runBackup({ repo, paths: [src], hostname: 'h' }),
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-journal-'));
    src = join(dir, 'src');
    cacheRoot = join(dir, 'cache');
    await mkdir(src);
    for (let i = 0; i < 8; i++) await writeSeededFile(join(src, `f${i}`), 3 * MiB, `journal-${i}`);
    local = new LocalStore(join(dir, 'repo'));
    await Repository.init(local, PASSWORD, {
      owner: { username: 'u', hostname: 'h' },
      kdfCost: { N: 1024, r: 8, p: 1 },
      packSize: 4 * MiB,
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('a later backup indexes the packs an interrupted one uploaded', async () => {
    // Puts 1–3 succeed (packs), every later one fails for good: no index is ever written.
    const gone = () => new HoldfastError('STORAGE_UNAVAILABLE', 'connection refused (test outage)');
    const failing = new FaultyStore(local, {
      rules: [
        { operation: 'put', calls: Array.from({ length: 500 }, (_, i) => i + 4), error: gone },
      ],
    });
    const outage = new RetryingStore(failing, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 });
    await assert.rejects(
      backup(outage),
      (err) => err instanceof HoldfastError && err.code === 'STORAGE_UNAVAILABLE',
    );
    const packs = await readdir(join(dir, 'repo', 'data'), { recursive: true });
    const uploaded = packs.filter((p) => /[0-9a-f]{64}$/.test(p)).length;
    assert.ok(uploaded >= 2, `${uploaded} packs uploaded before the outage`);
    assert.deepEqual(await readdir(join(dir, 'repo', 'index')), []);

    const second = await backup(local);
    assert.ok(second.snapshotId);
    assert.ok(
      infos.some((m) => /indexed \d+ packs an interrupted earlier backup had uploaded/.test(m)),
      infos.join('\n'),
    );
    const added = second.snapshot.summary!.data_added;
    assert.ok(added <= 24 * MiB - uploaded * 3 * MiB, `${added} bytes uploaded again`);

    const healthy = await Repository.open(local, PASSWORD);
    const check = await checkRepository({ repo: healthy, readData: true });
    assert.deepEqual(check.errors, []);
    assert.deepEqual(check.warnings, []);
    const [snapshot] = await healthy.listSnapshots();
    await healthy.loadIndex();
    const target = join(dir, 'restored');
    const restored = await runRestore({ repo: healthy, snapshot: snapshot!, target });
    assert.deepEqual(restored.errors, []);
    assert.equal(await rsyncDifferences(`${src}/`, `${join(target, src)}/`), '');

    // The journal is gone once its packs are indexed, and a third backup adopts nothing.
    infos.length = 0;
    await backup(local);
    assert.ok(!infos.some((m) => /interrupted/.test(m)), infos.join('\n'));
  });

  void it('adopts a pack whose put stored it but lost the answer', async () => {
    const store = new LocalStore(join(dir, 'repo-lost'));
    await Repository.init(store, PASSWORD, {
      owner: { username: 'u', hostname: 'h' },
      kdfCost: { N: 1024, r: 8, p: 1 },
      packSize: 4 * MiB,
    });
    // Put 1 is the lock; put 2, the first pack, is stored and then fails as if its answer was
    // lost; every later put fails for good.
    const gone = () => new HoldfastError('STORAGE_UNAVAILABLE', 'connection reset (test outage)');
    const failing = new FaultyStore(store, {
      rules: [
        { operation: 'put', calls: [2], when: 'after', error: gone },
        { operation: 'put', calls: Array.from({ length: 500 }, (_, i) => i + 3), error: gone },
      ],
    });
    const outage = new RetryingStore(failing, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 });
    await assert.rejects(
      backup(outage),
      (err) => err instanceof HoldfastError && err.code === 'STORAGE_UNAVAILABLE',
    );
    const packs = await readdir(join(dir, 'repo-lost', 'data'), { recursive: true });
    assert.equal(packs.filter((p) => /[0-9a-f]{64}$/.test(p)).length, 1, 'one pack was stored');

    infos.length = 0;
    const second = await backup(store);
    assert.ok(second.snapshotId);
    assert.ok(
      infos.some((m) => /^indexed 1 packs an interrupted earlier backup had uploaded$/.test(m)),
      infos.join('\n'),
    );
    const added = second.snapshot.summary!.data_added;
    assert.ok(added <= 24 * MiB - 3 * MiB, `${added} bytes uploaded again`);
    const check = await checkRepository({
      repo: await Repository.open(store, PASSWORD),
      readData: true,
    });
    assert.deepEqual(check.errors, []);
    assert.deepEqual(check.warnings, []);
  });
});
