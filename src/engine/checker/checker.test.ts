import assert from 'node:assert/strict';
import { readdirSync, rmSync, watch } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BlobId, PackId } from '../../core/index.js';
import { LocalStore, MemoryStore, type ObjectStore } from '../../storage/index.js';
import { seededBytes } from '../../storage/testing/seeded-random.js';
import { Repository } from '../repository/index.js';
import { checkRepository as checkWith, type CheckOptions, type CheckResult } from './checker.js';

const owner = { username: 'u', hostname: 'h' };
const cheap = { N: 1024, r: 8, p: 1 };
const MiB = 1024 * 1024;

/** A repository of `count` data blobs of 1.5 MB in 4 MiB packs (a few blobs per pack). */
async function repository(store: ObjectStore, count: number): Promise<[Repository, BlobId[]]> {
  const repo = await Repository.init(store, 'pw', {
    owner,
    kdfCost: cheap,
    packSize: 4 * MiB,
    compression: 'off',
  });
  const writer = repo.writer();
  const ids: BlobId[] = [];
  for (let i = 0; i < count; i++)
    ids.push((await writer.save('data', seededBytes(i, 1_500_000))).id);
  await writer.flush();
  return [repo, ids];
}

/** Flips one byte of a stored pack, as a failing disk might. */
async function flipByte(store: ObjectStore, packId: PackId, at: number): Promise<void> {
  const bytes = await store.get('pack', packId);
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  await store.delete('pack', packId);
  await store.put('pack', packId, bytes);
}

// From a store without files the main thread streams each pack into a spool file and reads it
// from there (or, without a spool, keeps the pack's bytes); from a directory it reads the pack
// files themselves.
for (const kind of ['memory', 'memory without a spool', 'local'] as const)
  void describe(`check --read-data (${kind} repository)`, () => {
    let tmp = '';
    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'holdfast-checker-'));
    });
    after(() => rm(tmp, { recursive: true, force: true }));
    const newStore = async (): Promise<ObjectStore> =>
      kind === 'local' ? new LocalStore(await mkdtemp(join(tmp, 'repo-'))) : new MemoryStore();
    const checkRepository = (options: CheckOptions): Promise<CheckResult> =>
      checkWith({
        ...options,
        spoolDirs: [kind === 'memory' ? tmp : join(tmp, 'missing')],
      });

    void it('reads every pack and verifies every blob of a healthy repository', async () => {
      const [repo, ids] = await repository(await newStore(), 12);
      const packs = new Set(ids.map((id) => repo.locate(id)!.packId));
      assert.ok(packs.size >= 3, `${packs.size} packs`);
      const result = await checkRepository({ repo, readData: true });
      assert.deepEqual(result.errors, []);
      assert.equal(result.packsRead, packs.size);
      assert.equal(result.blobsChecked, ids.length);
    });

    void it('names a damaged blob and its pack, and checks the rest', async () => {
      const store = await newStore();
      const [repo, ids] = await repository(store, 12);
      const hit = ids[5]!;
      const loc = repo.locate(hit)!;
      await flipByte(store, loc.packId, loc.offset + 1000);
      const result = await checkRepository({ repo, readData: true, threads: 2 });
      const objects = result.errors.map((e) => e.object).sort();
      assert.deepEqual(objects, [`blob ${hit}`, `pack ${loc.packId}`].sort());
      assert.match(
        result.errors.find((e) => e.object === `pack ${loc.packId}`)!.message,
        /does not match its name/,
      );
      assert.match(
        result.errors.find((e) => e.object === `blob ${hit}`)!.message,
        /authentication/,
      );
      assert.equal(result.blobsChecked, ids.length);
    });

    // Only a local repository has pack files to take away.
    if (kind === 'local')
      void it('reports a pack that cannot be read, and its blobs as damaged', async () => {
        const store = await newStore();
        const [repo, ids] = await repository(store, 8);
        const packs = [...new Set(ids.map((id) => repo.locate(id)!.packId))];
        assert.ok(packs.length >= 3, `${packs.length} packs`);
        // Listed, then gone before it is read (another host pruning, a broken mount): once the
        // first pack is checked, every other pack's file goes. With one worker holding two packs,
        // at least the last pack is not open yet.
        let removed = false;
        const result = await checkRepository({
          repo,
          readData: true,
          threads: 1,
          onProgress: (p) => {
            if (p.phase !== 'read-data' || removed) return;
            removed = true;
            for (const packId of packs) rmSync(store.files!.path('pack', packId), { force: true });
          },
        });
        const unreadable = result.errors.filter((e) => /^unreadable: /.test(e.message));
        assert.ok(unreadable.length >= 1, JSON.stringify(result.errors));
        assert.deepEqual(
          result.errors.filter((e) => !unreadable.includes(e)),
          [],
          'nothing but unreadable packs',
        );
        for (const e of unreadable) assert.match(e.message, /ENOENT/);
        const lost = new Set(unreadable.map((e) => e.object));
        const checked = ids.filter((id) => !lost.has(`pack ${repo.locate(id)!.packId}`));
        assert.equal(result.blobsChecked, checked.length);
        assert.equal(result.packsRead, packs.length);
      });
  });

void describe('check --read-data from a store without files: the spool', () => {
  let tmp = '';
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'holdfast-checker-spool-'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  void it('streams each pack into a spool it removes, and without one checks in memory', async () => {
    const store = new MemoryStore();
    const [repo, ids] = await repository(store, 12);
    const hit = ids[7]!;
    const loc = repo.locate(hit)!;
    await flipByte(store, loc.packId, loc.offset + 10);
    const parent = await mkdtemp(join(tmp, 'parent-'));
    const made: string[] = [];
    const watcher = watch(parent, (_, name) => name !== null && made.push(name));
    const warnings: string[] = [];
    let spoolDir = '';
    let result: CheckResult;
    try {
      result = await checkWith({
        repo,
        readData: true,
        threads: 1,
        spoolDirs: [parent],
        onWarning: (m) => warnings.push(m),
        // After the first pack the spool goes away: the rest is checked in memory, with a warning.
        onProgress: (p) => {
          if (p.phase !== 'read-data' || spoolDir !== '') return;
          spoolDir = join(parent, readdirSync(parent)[0]!);
          rmSync(spoolDir, { recursive: true });
        },
      });
    } finally {
      watcher.close();
    }
    assert.ok(
      made.some((n) => n.startsWith('holdfast-spool-')),
      JSON.stringify(made),
    );
    assert.deepEqual(readdirSync(parent), [], 'removed');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot write packs to .*checking them in memory instead/);
    // Every pack checked, the damage found wherever it was checked.
    assert.equal(result.blobsChecked, ids.length);
    assert.deepEqual(
      result.errors.map((e) => e.object).sort(),
      [`blob ${hit}`, `pack ${loc.packId}`].sort(),
    );
  });
});
