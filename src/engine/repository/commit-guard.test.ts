/**
 * The backup's check before its Snapshot (repository-format.md §13.1 rule 9): it decodes only
 * the Index files that appeared since the load, and still notices a prune that superseded a
 * loaded Index without deleting it yet.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IndexId } from '../../core/index.js';
import { LocalStore } from '../../storage/index.js';
import { CountingStore } from '../../storage/testing/counting-store.js';
import { fileNode } from '../../testing/file-node.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { fileIdOf } from '../crypto/index.js';
import { encodeIndexFile, encodeTree } from '../format/index.js';
import { keepReusedPacksIndexed } from './commit-guard.js';
import { Repository } from './repository.js';

const owner = { username: 'u', hostname: 'h' };
const cheap = { N: 1024, r: 8, p: 1 };

/** Saves `data` and a tree naming it through `repo`'s writer; returns the tree and what it wrote. */
async function saveFile(repo: Repository, data: Buffer) {
  const writer = repo.writer();
  const blob = (await writer.save('data', data)).id;
  const tree = (await writer.save('tree', encodeTree({ nodes: [fileNode('f', [blob])] }))).id;
  const stats = await writer.flush();
  return { tree, written: stats.indexesWritten };
}

void describe('keepReusedPacksIndexed', () => {
  let dir = '';
  let n = 0;
  before(async () => {
    dir = await makeTempDir('commit-guard');
  });
  after(() => removeTempDir(dir));

  /** A repository with one backup of `shared` in it, and a session that loaded its index. */
  async function sessionAfterOneBackup(shared: Buffer) {
    const store = new CountingStore(new LocalStore(join(dir, `repo-${n++}`)));
    const first = await Repository.init(store, 'pw', { owner, kdfCost: cheap });
    await saveFile(first, shared);
    const session = await Repository.open(store, 'pw');
    await session.loadIndex();
    return { store, session };
  }

  void it('decodes no Index file when none appeared since the load', async () => {
    const shared = randomBytes(3000);
    const { store, session } = await sessionAfterOneBackup(shared);
    const { tree, written } = await saveFile(session, Buffer.concat([shared, randomBytes(10)]));
    store.reset();
    assert.equal(await keepReusedPacksIndexed(session, tree, undefined, written), 0);
    assert.equal(store.count('get', 'index'), 0, 'the loaded and the written files are known');
    assert.equal(store.count('list', 'index'), 1);
  });

  void it("decodes an Index another session wrote meanwhile, and leaves the snapshot's packs be", async () => {
    const shared = randomBytes(3000);
    const { store, session } = await sessionAfterOneBackup(shared);
    const other = await Repository.open(store, 'pw');
    await saveFile(other, randomBytes(2000));
    const { tree, written } = await saveFile(session, randomBytes(1000));
    store.reset();
    assert.equal(await keepReusedPacksIndexed(session, tree, undefined, written), 0);
    assert.equal(store.count('get', 'index'), 1, "only the other session's Index");
  });

  void it('re-indexes a reused pack when a new Index supersedes a loaded one still present', async () => {
    const shared = randomBytes(3000);
    const { store, session } = await sessionAfterOneBackup(shared);
    // A prune in progress: it wrote an Index superseding the loaded one (and listing nothing
    // the backup reused), and has not deleted the loaded one yet.
    const loaded = [...session.loadedIndexFiles] as IndexId[];
    assert.equal(loaded.length, 1);
    const replacement = encodeIndexFile(session.masterKeyForCheck(), {
      supersedes: loaded,
      packs: [],
    });
    await store.put('index', fileIdOf(replacement), replacement);
    const writer = session.writer();
    const reused = await writer.save('data', shared);
    assert.equal(reused.added, false, 'deduplicated against the index loaded at the start');
    const tree = (await writer.save('tree', encodeTree({ nodes: [fileNode('g', [reused.id])] })))
      .id;
    const stats = await writer.flush();
    assert.equal(await keepReusedPacksIndexed(session, tree, undefined, stats.indexesWritten), 1);
    const after = await Repository.open(store, 'pw');
    await after.loadIndex();
    assert.deepEqual(await after.loadBlob('data', reused.id), shared);
  });
});
