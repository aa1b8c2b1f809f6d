/**
 * Trees are read from whole tree packs the repository holds: walking many trees costs a few
 * requests instead of one per tree, and a damaged pack still gives every intact tree by ranged
 * reads, while the damaged one fails INTEGRITY.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError, type BlobId } from '../../core/index.js';
import { CacheDirectory, CachingStore, FaultyStore, LocalStore } from '../../storage/index.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { decodeTree, encodeTree } from '../format/index.js';
import { Repository } from './repository.js';
import { TreePacks } from './tree-packs.js';

const TREES = 300;
const fakeId = (n: number) => createHash('sha256').update(`part ${n}`).digest('hex') as BlobId;

void describe('tree packs held whole', () => {
  let dir = '';
  let trees: BlobId[] = [];

  before(async () => {
    dir = await makeTempDir('tree-packs');
    const store = new LocalStore(join(dir, 'repo'));
    const repo = await Repository.init(store, 'pw', {
      owner: { username: 'u', hostname: 'h' },
      kdfCost: { N: 1024, r: 8, p: 1 },
      packSize: 4 * 1024 * 1024,
    });
    const writer = repo.writer();
    trees = [];
    for (let i = 0; i < TREES; i++)
      trees.push((await writer.save('tree', encodeTree({ parts: [fakeId(i), fakeId(-i)] }))).id);
    await writer.flush();
  });
  after(() => removeTempDir(dir));

  /** The repository through a store that counts calls and has no local-file shortcut. */
  async function open(): Promise<{ repo: Repository; counted: FaultyStore }> {
    const counted = new FaultyStore(new LocalStore(join(dir, 'repo')));
    const repo = await Repository.open(counted, 'pw');
    await repo.loadIndex();
    return { repo, counted };
  }

  void it('walks 300 trees of one pack with two reads of it', async () => {
    const { repo, counted } = await open();
    const before = counted.calls('get');
    for (const [i, id] of trees.entries())
      assert.deepEqual(decodeTree(await repo.loadBlob('tree', id)), {
        parts: [fakeId(i), fakeId(-i)],
      });
    // The first tree by its range, then the whole pack once.
    assert.equal(counted.calls('get') - before, 2);
  });

  void it('holds no pack while ranged reads are served on this machine, and does again after', async () => {
    const { repo, counted } = await open();
    let local = true;
    const packs = new TreePacks(counted, 4 * 1024 * 1024, () => local);
    const locs = trees.slice(0, 3).map((id) => repo.index.lookup(id)!);
    const before = counted.calls('get');
    for (const loc of locs) assert.equal(await packs.read(loc), undefined, 'read its range');
    assert.equal(counted.calls('get'), before, 'no whole pack fetched');
    // Reads no longer local (the predicate is asked per read): packs are held again.
    local = false;
    assert.equal(await packs.read(locs[0]!), undefined, 'the first tree of the pack by range');
    assert.ok((await packs.read(locs[1]!))?.length === locs[1]!.length);
    assert.equal(counted.calls('get'), before + 1, 'the whole pack, once');
  });

  void it('a local repository reads its trees by ranges and holds no pack', async () => {
    const repo = await Repository.open(new LocalStore(join(dir, 'repo')), 'pw');
    await repo.loadIndex();
    for (const [i, id] of trees.entries())
      assert.deepEqual(decodeTree(await repo.loadBlob('tree', id)), {
        parts: [fakeId(i), fakeId(-i)],
      });
    // What is held is private; the test looks at it directly.
    const reader = repo as unknown as { blobs: { treePacks: { kept: Map<string, unknown> } } };
    assert.equal(reader.blobs.treePacks.kept.size, 0);
  });

  void it('through a writable cache, trees are read from the cached pack file, none held', async () => {
    const counted = new FaultyStore(new LocalStore(join(dir, 'repo')));
    const logger = { warn: () => undefined, info: () => undefined, debug: () => undefined };
    const repo = await Repository.open(counted, 'pw', {
      cache: (store, id) =>
        new CachingStore(store, new CacheDirectory(join(dir, 'cache'), id, logger)),
    });
    await repo.loadIndex();
    const before = counted.calls('get');
    for (const [i, id] of trees.entries())
      assert.deepEqual(decodeTree(await repo.loadBlob('tree', id)), {
        parts: [fakeId(i), fakeId(-i)],
      });
    assert.equal(counted.calls('get') - before, 1, 'the pack fetched once, into the cache');
    // What is held is private; the test looks at it directly.
    const reader = repo as unknown as { blobs: { treePacks: { kept: Map<string, unknown> } } };
    assert.equal(reader.blobs.treePacks.kept.size, 0);
    await repo.store.close();
  });

  void it('a failed whole-pack download fails that read only; the next one fetches again', async () => {
    // Opening and loading the index take a fixed number of gets; the one after the first tree's
    // ranged read is the whole-pack download, which fails (no retries here).
    const setup = (await open()).counted.calls('get');
    const counted = new FaultyStore(new LocalStore(join(dir, 'repo')), {
      rules: [{ operation: 'get', calls: [setup + 2] }],
    });
    const repo = await Repository.open(counted, 'pw');
    await repo.loadIndex();
    assert.equal(counted.calls('get'), setup);
    await repo.loadBlob('tree', trees[0]!);
    await assert.rejects(repo.loadBlob('tree', trees[1]!), (e) =>
      isHoldfastError(e, 'STORAGE_UNAVAILABLE'),
    );
    for (const [i, id] of trees.entries())
      assert.deepEqual(decodeTree(await repo.loadBlob('tree', id)), {
        parts: [fakeId(i), fakeId(-i)],
      });
    // After the failure: one more whole download, then every tree from it.
    assert.equal(counted.calls('get'), setup + 3);
  });

  void it('reads a damaged pack by ranges: intact trees load, the damaged one fails', async () => {
    const packs = (await readdir(join(dir, 'repo', 'data'), { recursive: true })).filter((p) =>
      /[0-9a-f]{64}$/.test(p),
    );
    assert.equal(packs.length, 1);
    const path = join(dir, 'repo', 'data', packs[0]!);
    const { repo, counted } = await open();
    const damaged = trees[150]!;
    const loc = repo.index.lookup(damaged)!;
    const bytes = await readFile(path);
    bytes[loc.offset + 20]! ^= 0xff;
    await writeFile(path, bytes);

    const before = counted.calls('get');
    for (const [i, id] of trees.entries()) {
      if (id === damaged) {
        await assert.rejects(repo.loadBlob('tree', id), (e) => isHoldfastError(e, 'INTEGRITY'));
        continue;
      }
      assert.deepEqual(decodeTree(await repo.loadBlob('tree', id)), {
        parts: [fakeId(i), fakeId(-i)],
      });
    }
    // One whole download, found not to match its name, then ranged reads only.
    assert.equal(counted.calls('get') - before, TREES + 1);
  });
});
