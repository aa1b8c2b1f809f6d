/**
 * The conformance suite's checks of file bodies (FileBody: an object's bytes in a file on this
 * machine, as a backup's spooled packs are stored): part of describeObjectStoreConformance.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { MiB, isHoldfastError } from '../../core/index.js';
import { FileBody, type ObjectStore } from '../object-store.js';
import { seededBytes } from './seeded-random.js';
import { testObject } from './test-object.js';

/** Runs a test on a fresh, created store (describeObjectStoreConformance's `withStore`). */
export type WithStore = (test: (store: ObjectStore) => Promise<void>) => () => Promise<void>;

/** A test on a fresh store with a directory of its own for the files, removed afterwards. */
function withBodies(
  withStore: WithStore,
  test: (store: ObjectStore, dir: string) => Promise<void>,
): () => Promise<void> {
  return withStore(async (store) => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-file-body-'));
    try {
      await test(store, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

export function describeFileBodies(withStore: WithStore): void {
  void it(
    "stores a file body as the file's bytes, with or without its hash, and not what follows",
    withBodies(withStore, async (store, dir) => {
      // Larger than a piece (1 MiB) and not a multiple of one, the file longer than the body.
      const whole = seededBytes(65, 3 * MiB + 7);
      const path = join(dir, 'pack');
      await writeFile(path, Buffer.concat([whole, Buffer.from('not part of the object')]));
      const name = createHash('sha256').update(whole).digest('hex');
      await store.put('pack', name, new FileBody(path, whole.length), { sha256: name });
      assert.ok((await store.get('pack', name)).equals(whole), 'the first `length` bytes');
      assert.deepEqual(await store.stat('pack', name), { name, size: whole.length });
      // Stored again (a retry after a lost answer): refused, whether or not the store reads
      // the file before it answers.
      await assert.rejects(
        store.put('pack', name, new FileBody(path, whole.length), { sha256: name }),
        (e) => isHoldfastError(e, 'OBJECT_EXISTS'),
      );
      // Whoever made the file removes it afterwards: the object stays as it was stored.
      await writeFile(path, Buffer.alloc(10));
      await rm(path);
      assert.ok((await store.get('pack', name)).equals(whole), 'independent of the file');
      const small = testObject(66, 5000);
      await writeFile(path, small.data);
      await store.put('snapshot', small.name, new FileBody(path, small.data.length));
      assert.ok((await store.get('snapshot', small.name)).equals(small.data), 'no hash given');
    }),
  );

  void it(
    'refuses a file body whose file is shorter than its length, and stores nothing',
    withBodies(withStore, async (store, dir) => {
      const whole = seededBytes(67, 2 * MiB + 3);
      const path = join(dir, 'pack');
      await writeFile(path, whole.subarray(0, MiB + 1));
      const name = createHash('sha256').update(whole).digest('hex');
      await assert.rejects(
        store.put('pack', name, new FileBody(path, whole.length), { sha256: name }),
      );
      await assert.rejects(store.get('pack', name), (e) => isHoldfastError(e, 'NOT_FOUND'));
      const missing = new FileBody(join(dir, 'gone'), 10);
      await assert.rejects(store.put('pack', testObject(68, 10).name, missing, { sha256: name }));
    }),
  );
}
