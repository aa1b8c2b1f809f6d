/**
 * A client that may add objects but not delete them (an append-only server) and holds the key
 * can still add index files. None of these may make a blob unreadable while an original index
 * file still locates it: wrong offsets, wrong packs, wrong lengths and types, and an index that
 * supersedes all the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlobId, IndexId, PackId } from '../../core/index.js';
import {
  MemoryStore,
  type MemoryObjects,
  type ObjectInfo,
  type ObjectKind,
  type StoreCallOptions,
} from '../../storage/index.js';
import { fileIdOf } from '../crypto/index.js';
import { encodeIndexFile, type IndexedPack, type IndexFileContent } from '../format/index.js';
import { Repository } from './repository.js';

const owner = { username: 'u', hostname: 'h' };
const cheap = { N: 1024, r: 8, p: 1 };

/** The same objects listed in reverse: whichever index file a reader meets first must not matter. */
class ReversedListing extends MemoryStore {
  override async *list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    const all: ObjectInfo[] = [];
    for await (const info of super.list(kind, options)) all.push(info);
    yield* all.reverse();
  }
}

interface Fixture {
  readonly objects: MemoryObjects;
  readonly store: MemoryStore;
  readonly blobs: Map<BlobId, Buffer>;
  readonly packs: IndexedPack[];
  readonly indexes: IndexId[];
}

async function repositoryWithBlobs(): Promise<Fixture> {
  const objects: MemoryObjects = new Map();
  const store = new MemoryStore({ objects });
  const repo = await Repository.init(store, 'pw', { owner, kdfCost: cheap, packSize: 4 << 20 });
  const writer = repo.writer({ compression: 'off' });
  const blobs = new Map<BlobId, Buffer>();
  for (let i = 0; i < 40; i++) {
    const data = Buffer.alloc(50_000 + i * 1000, i + 1);
    blobs.set((await writer.save('data', data)).id, data);
  }
  await writer.flush();
  const files = await repo.readIndexFiles();
  return {
    objects,
    store,
    blobs,
    packs: files.flatMap((f) => [...f.content.packs]),
    indexes: files.map((f) => f.id),
  };
}

async function addIndex(store: MemoryStore, content: IndexFileContent): Promise<void> {
  const repo = await Repository.open(store, 'pw');
  const bytes = encodeIndexFile(repo.masterKeyForCheck(), content);
  await store.put('index', fileIdOf(bytes), bytes);
}

/** Opens the repository as readers would, meeting index files in either order; reads every blob. */
async function assertEveryBlobReads(f: Fixture): Promise<Repository[]> {
  const views = [
    new MemoryStore({ objects: f.objects }),
    new ReversedListing({ objects: f.objects }),
  ];
  const repos: Repository[] = [];
  for (const view of views) {
    const repo = await Repository.open(view, 'pw');
    await repo.loadIndex();
    for (const [id, data] of f.blobs) {
      assert.ok((await repo.loadBlob('data', id)).equals(data), `blob ${id}`);
      assert.equal(repo.locate(id)?.rawLength, data.length, `length of ${id}`);
    }
    repos.push(repo);
  }
  return repos;
}

void describe('forged index files', () => {
  void it('entries with wrong offsets or packs fall back to verified copies', async () => {
    const f = await repositoryWithBlobs();
    const [pack] = f.packs;
    assert.ok(pack);
    const other = 'f'.repeat(64) as PackId;
    await f.store.put('pack', other, Buffer.alloc(10));
    await addIndex(f.store, {
      supersedes: [],
      packs: [
        { packId: pack.packId, entries: pack.entries.map((e) => ({ ...e, offset: e.offset + 7 })) },
        { packId: other, entries: pack.entries },
      ],
    });
    await assertEveryBlobReads(f);
  });

  void it('entries with wrong lengths or types are settled by reading', async () => {
    const f = await repositoryWithBlobs();
    await addIndex(f.store, {
      supersedes: [],
      packs: f.packs.map((p) => ({
        packId: p.packId,
        entries: p.entries.map((e, i) =>
          i % 2 ? { ...e, rawLength: e.rawLength + 1 } : { ...e, type: 'tree' as const },
        ),
      })),
    });
    await assertEveryBlobReads(f);
  });

  void it('an index that supersedes the others hides nothing', async () => {
    const f = await repositoryWithBlobs();
    await addIndex(f.store, { supersedes: f.indexes, packs: [] });
    await addIndex(f.store, {
      supersedes: f.indexes,
      packs: f.packs.map((p) => ({
        packId: p.packId,
        entries: p.entries.map((e) => ({ ...e, offset: e.offset + 1, length: e.length + 1 })),
      })),
    });
    await assertEveryBlobReads(f);
  });

  void it('a repository without forgeries keeps no alternative locations', async () => {
    const f = await repositoryWithBlobs();
    for (const repo of await assertEveryBlobReads(f)) assert.equal(repo.alternatives.size, 0);
  });
});
