/**
 * PackCache against a MemoryStore of pack-sized objects: packs come back whole and right however
 * often slabs are reused, a slab is reused only once nothing holds its pack, and a fetch that
 * waits for a slab ends with the restore.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError, type PackId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { CountingStore } from '../../storage/testing/counting-store.js';
import { seededBytes } from '../../storage/testing/seeded-random.js';
import { startRestServer } from '../../testing/rest-server.js';
import { RestStore } from '../../storage/rest/rest-store.js';
import {
  CACHE_BYTES,
  FETCHES,
  PackCache,
  SLAB_SLACK,
  SPOOL_BYTES,
  type PackLease,
} from './pack-cache.js';

const MiB = 1024 * 1024;
const PACK_SIZE = 4 * MiB;
const KEPT = CACHE_BYTES / PACK_SIZE;
const SLABS = KEPT + FETCHES;
const SPOOLED = SPOOL_BYTES / PACK_SIZE;

let parent: string;
before(async () => (parent = await mkdtemp(join(tmpdir(), 'holdfast-pack-cache-test-'))));
after(() => rm(parent, { recursive: true, force: true }));

/** A pack-sized object whose bytes say which one it is (made once per pack and length). */
const made = new Map<string, Buffer>();
function packBytes(i: number, length = PACK_SIZE + 1000): Buffer {
  const key = `${i} ${length}`;
  let bytes = made.get(key);
  if (bytes === undefined) made.set(key, (bytes = seededBytes(1000 + i, length)));
  return bytes;
}

function nameOf(i: number): PackId {
  return createHash('sha256').update(`name ${i}`).digest('hex') as PackId;
}

async function storeOf(count: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (let i = 0; i < count; i++) await store.put('pack', nameOf(i), packBytes(i));
  return store;
}

/** Whether `p` settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

void describe('PackCache', () => {
  void it('hands out whole packs in reused slabs, each slab again only once nothing holds it', async () => {
    const store = await storeOf(SLABS + 2);
    const cache = new PackCache(store, PACK_SIZE);
    const leases: PackLease[] = [];
    for (let i = 0; i < SLABS; i++) {
      const lease = await cache.lease(nameOf(i));
      assert.ok(lease.memory instanceof SharedArrayBuffer, `pack ${i} is in a slab`);
      assert.ok(lease.bytes!.equals(packBytes(i)), `pack ${i} whole`);
      leases.push(lease);
    }
    assert.equal(new Set(leases.map((l) => l.memory)).size, SLABS, 'a slab per pack');
    // Every slab is leased: the next pack waits for one.
    const waiting = cache.lease(nameOf(SLABS));
    assert.equal(await settled(waiting), false, 'no slab is free');
    // The first packs are no longer kept (only the last KEPT are), but still leased: releasing
    // one frees its slab for the waiting fetch.
    const freed = leases[0]!.memory;
    leases[0]!.release();
    leases[0]!.release(); // a second release changes nothing
    const next = await waiting;
    assert.equal(next.memory, freed, 'the released slab is reused');
    assert.ok(next.bytes!.equals(packBytes(SLABS)), 'and holds the new pack whole');
    // Packs still leased were not touched by the reuse.
    for (let i = 1; i < SLABS; i++) assert.ok(leases[i]!.bytes!.equals(packBytes(i)), `pack ${i}`);
    for (const l of [...leases, next]) l.release();
  });

  void it('keeps the packs used last, and downloads a kept pack once', async () => {
    const counting = new CountingStore(await storeOf(KEPT + 1));
    const cache = new PackCache(counting, PACK_SIZE);
    for (let i = 0; i <= KEPT; i++) (await cache.lease(nameOf(i))).release();
    assert.equal(cache.wants(nameOf(KEPT), 1), true, 'a kept pack serves any range');
    assert.equal(cache.wants(nameOf(0), 1), false, 'the oldest was dropped');
    assert.equal(cache.wants(nameOf(0), PACK_SIZE / 4), true, 'a quarter of a pack fetches it');
    (await cache.lease(nameOf(KEPT))).release();
    assert.equal(counting.gets('pack', nameOf(KEPT)), 1);
    (await cache.lease(nameOf(0))).release();
    assert.equal(counting.gets('pack', nameOf(0)), 2, 'fetched again after it was dropped');
  });

  void it('keeps the slab of a shared lease until every share is released', async () => {
    const store = await storeOf(SLABS + 1);
    const cache = new PackCache(store, PACK_SIZE);
    const held = await cache.lease(nameOf(0));
    const shared = held.share();
    const others: PackLease[] = [];
    // The rest of the slabs, and every later pack, push pack 0 out of the kept packs.
    for (let i = 1; i < SLABS; i++) others.push(await cache.lease(nameOf(i)));
    held.release();
    assert.throws(() => held.share(), /after its release/);
    const waiting = cache.lease(nameOf(SLABS));
    assert.equal(await settled(waiting), false, 'the shared lease still holds its slab');
    assert.ok(shared.bytes!.equals(packBytes(0)), 'and its pack');
    shared.release();
    const next = await waiting;
    assert.equal(next.memory, held.memory, 'then the slab is reused');
    for (const l of [...others, next]) l.release();
  });

  void it('keeps a pack too large for a slab in memory of its own', async () => {
    const store = new MemoryStore();
    const large = packBytes(7, PACK_SIZE + SLAB_SLACK + 1);
    await store.put('pack', nameOf(7), large);
    const lease = await new PackCache(store, PACK_SIZE).lease(nameOf(7));
    assert.equal(lease.memory, undefined);
    assert.ok(lease.bytes!.equals(large));
    lease.release();
  });

  void it('rejects a missing pack without keeping it or its slab', async () => {
    const store = await storeOf(SLABS);
    const cache = new PackCache(store, PACK_SIZE);
    const leases: PackLease[] = [];
    for (let i = 0; i < SLABS - 1; i++) leases.push(await cache.lease(nameOf(i)));
    const missing = createHash('sha256').update('missing').digest('hex') as PackId;
    await assert.rejects(cache.lease(missing), (err) => isHoldfastError(err, 'NOT_FOUND'));
    assert.equal(cache.wants(missing, 1), false, 'a failed fetch is not kept');
    // The last slab came back: one more pack fits without waiting.
    const last = cache.lease(nameOf(SLABS - 1));
    assert.equal(await settled(last), true);
    (await last).release();
    for (const l of leases) l.release();
  });

  void it('ends a fetch waiting for a slab when the restore is interrupted', async () => {
    const store = await storeOf(SLABS + 1);
    const abort = new AbortController();
    const cache = new PackCache(store, PACK_SIZE, { signal: abort.signal });
    for (let i = 0; i < SLABS; i++) await cache.lease(nameOf(i));
    const waiting = cache.lease(nameOf(SLABS));
    assert.equal(await settled(waiting), false);
    abort.abort();
    await assert.rejects(waiting, (err) => isHoldfastError(err, 'INTERRUPTED'));
  });
});

void describe('PackCache with a spool', () => {
  void it('keeps packs as files on disk, in no slab, and removes each once nothing holds it', async () => {
    const counting = new CountingStore(await storeOf(SPOOLED + 1));
    const cache = new PackCache(counting, PACK_SIZE, { spoolDirs: [parent] });
    const leases: PackLease[] = [];
    // More packs held at once than there are slabs: none waits for memory.
    for (let i = 0; i < SPOOLED; i++) {
      const lease = await cache.lease(nameOf(i));
      assert.equal(lease.memory, undefined, `pack ${i} in no slab`);
      assert.equal(lease.bytes, undefined);
      assert.equal(lease.length, packBytes(i).length);
      assert.ok((await readFile(lease.file!)).equals(packBytes(i)), `pack ${i} whole on disk`);
      leases.push(lease);
    }
    assert.ok(SPOOLED > SLABS);
    const dir = dirname(leases[0]!.file!);
    for (const l of leases) l.release();
    // All of them are kept: leased again, none is downloaded again.
    for (let i = 0; i < SPOOLED; i++) (await cache.lease(nameOf(i))).release();
    for (let i = 0; i < SPOOLED; i++) assert.equal(counting.gets('pack', nameOf(i)), 1);
    // One more pushes the oldest out, and its file goes.
    (await cache.lease(nameOf(SPOOLED))).release();
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(stat(leases[0]!.file!), { code: 'ENOENT' });
    assert.equal((await readdir(dir)).length, SPOOLED);
    await cache.close();
    await assert.rejects(stat(dir), { code: 'ENOENT' }, 'the spool goes with the restore');
  });

  void it('streams a pack from a store that streams straight into its file', async () => {
    const server = await startRestServer({ verifyNames: false });
    const store = new RestStore(server.location('spooled').slice('rest:'.length));
    try {
      await store.create();
      const bytes = packBytes(3);
      await store.put('pack', nameOf(3), bytes);
      const cache = new PackCache(store, PACK_SIZE, { spoolDirs: [parent] });
      const lease = await cache.lease(nameOf(3));
      assert.equal(lease.memory, undefined);
      assert.ok((await readFile(lease.file!)).equals(bytes));
      lease.release();
      await cache.close();
    } finally {
      await store.close();
      await server.stop();
    }
  });

  void it('keeps packs in memory, with one warning, once the spool cannot be written', async () => {
    const warnings: string[] = [];
    const store = await storeOf(3);
    const cache = new PackCache(store, PACK_SIZE, {
      spoolDirs: [parent],
      onWarning: (m) => warnings.push(m),
    });
    const first = await cache.lease(nameOf(0));
    assert.ok(first.file !== undefined);
    await rm(dirname(first.file), { recursive: true });
    for (const i of [1, 2]) {
      const lease = await cache.lease(nameOf(i));
      assert.ok(lease.memory instanceof SharedArrayBuffer, `pack ${i} in memory`);
      assert.ok(lease.bytes!.equals(packBytes(i)));
      lease.release();
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot write packs to .*keeping them in memory instead/);
    first.release();
    await cache.close();
  });

  void it('keeps packs in memory without a word when no place for a spool is on a disk', async () => {
    const warnings: string[] = [];
    const cache = new PackCache(await storeOf(1), PACK_SIZE, {
      spoolDirs: [join(parent, 'missing')],
      onWarning: (m) => warnings.push(m),
    });
    const lease = await cache.lease(nameOf(0));
    assert.ok(lease.memory instanceof SharedArrayBuffer);
    assert.equal(lease.file, undefined);
    lease.release();
    await cache.close();
    assert.deepEqual(warnings, []);
  });
});
