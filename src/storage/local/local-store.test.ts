import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, statfs, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../../core/index.js';
import { FileBody } from '../object-store.js';
import {
  collect,
  describeObjectStoreConformance,
  rejectsWithCode,
  testObject,
} from '../testing/conformance.js';
import { directWritesSuit } from './direct-write.js';
import { LAYOUT_DIRS } from './local-layout.js';
import { LocalStore } from './local-store.js';

describeObjectStoreConformance('LocalStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-local-'));
  return {
    store: new LocalStore(join(dir, 'repo')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

void describe('LocalStore', () => {
  let dir: string;
  let n = 0;
  /** A created store in a fresh directory. */
  const fresh = async (options: ConstructorParameters<typeof LocalStore>[1] = {}) => {
    const store = new LocalStore(join(dir, `repo${++n}`), options);
    await store.create();
    return store;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-local-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('creates the layout recursively with mode 0700 directories', async () => {
    const store = new LocalStore(join(dir, 'a', 'b', 'repo'));
    await store.create();
    await store.create();
    assert.equal(LAYOUT_DIRS.filter((d) => d.startsWith('data/')).length, 256);
    assert.equal(await mode(store.root), 0o700);
    for (const d of LAYOUT_DIRS) assert.equal(await mode(join(store.root, d)), 0o700, d);
    assert.deepEqual((await readdir(store.root)).sort(), [
      'data',
      'index',
      'keys',
      'locks',
      'snapshots',
      'tmp',
    ]);
  });

  void it('writes each kind at its layout path with mode 0600', async () => {
    const store = await fresh();
    const { name, data } = testObject(1);
    const paths = {
      config: 'config',
      key: `keys/${name}`,
      pack: `data/${name.slice(0, 2)}/${name}`,
      index: `index/${name}`,
      snapshot: `snapshots/${name}`,
      lock: `locks/${name}`,
    } as const;
    for (const [kind, path] of Object.entries(paths) as [keyof typeof paths, string][]) {
      await store.put(kind, kind === 'config' ? 'config' : name, data);
      assert.equal(await mode(join(store.root, path)), 0o600, path);
    }
    assert.deepEqual(await readdir(join(store.root, 'tmp')), [], 'no tmp file left behind');
  });

  void it('links a file body on its file system into place instead of copying it', async () => {
    const store = await fresh();
    const { name, data } = testObject(5, 2 * 1024 * 1024 + 9);
    const path = join(dir, `body${n}`);
    await writeFile(path, data, { mode: 0o600 });
    await store.put('pack', name, new FileBody(path, data.length));
    const stored = join(store.root, 'data', name.slice(0, 2), name);
    assert.equal((await stat(stored)).ino, (await stat(path)).ino, 'the same file');
    assert.equal(await mode(stored), 0o600);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), [], 'no tmp file left behind');
    await rm(path);
    assert.ok((await store.get('pack', name)).equals(data), 'kept once the body is removed');
    // A file longer than the body cannot be linked: copied (the conformance suite checks bytes).
    const longer = testObject(6, 5000);
    await writeFile(path, Buffer.concat([longer.data, Buffer.alloc(3)]));
    await store.put('pack', longer.name, new FileBody(path, 5000));
    const copied = join(store.root, 'data', longer.name.slice(0, 2), longer.name);
    assert.notEqual((await stat(copied)).ino, (await stat(path)).ino, 'a copy');
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });

  void it('resolves a relative root to an absolute location', () => {
    const store = new LocalStore('relative/repo');
    assert.ok(store.location.startsWith('/'));
    assert.ok(store.location.endsWith('/relative/repo'));
  });

  void it('refuses to put into a repository that was never created', async () => {
    const store = new LocalStore(join(dir, 'never-created'));
    const { name, data } = testObject(2);
    await rejectsWithCode(store.put('pack', name, data), 'REPOSITORY_NOT_FOUND');
    await rejectsWithCode(store.get('pack', name), 'NOT_FOUND');
    assert.deepEqual(await collect(store.list('pack')), []);
    await assert.rejects(stat(store.root), { code: 'ENOENT' });
  });

  void it('recreates a missing data/xx or tmp directory on put', async () => {
    const store = await fresh();
    const obj = testObject(3);
    await rm(join(store.root, 'data', obj.name.slice(0, 2)), { recursive: true });
    await rm(join(store.root, 'tmp'), { recursive: true });
    await store.put('pack', obj.name, obj.data);
    assert.ok((await store.get('pack', obj.name)).equals(obj.data));
  });

  void it('lists only valid object names, never stray or tmp files', async () => {
    const store = await fresh();
    const obj = testObject(4);
    const wrongPrefix = obj.name.slice(0, 2) === 'ab' ? 'cd' : 'ab';
    await store.put('pack', obj.name, obj.data);
    await store.put('snapshot', obj.name, obj.data);
    const strays = [
      `data/${obj.name.slice(0, 2)}/.DS_Store`,
      `data/${obj.name.slice(0, 2)}/${obj.name}.tmp`,
      `data/${wrongPrefix}/${testObject(5).name.replace(/^../, obj.name.slice(0, 2))}`,
      `snapshots/${obj.name.toUpperCase()}`,
      `snapshots/notes.txt`,
      `tmp/${testObject(6).name}`,
    ];
    for (const s of strays) await writeFile(join(store.root, s), 'x');
    await mkdir(join(store.root, 'snapshots', testObject(7).name));
    assert.deepEqual(await collect(store.list('pack')), [{ name: obj.name, size: 1000 }]);
    assert.deepEqual(await collect(store.list('snapshot')), [{ name: obj.name, size: 1000 }]);
  });

  void it('survives a stale tmp file: later puts work, cleanTmp removes only old files', async () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const store = await fresh({ clock: fixedClock(now) });
    const obj = testObject(8);
    // What a writer killed between open and link leaves: a partial file under a random name.
    const stale = join(store.root, 'tmp', 'f00dfeed');
    const young = join(store.root, 'tmp', 'beefcafe');
    await writeFile(stale, obj.data.subarray(0, 10));
    await writeFile(young, 'in flight');
    const hourAgo = new Date(now.getTime() - 3_600_000);
    await utimes(stale, hourAgo, hourAgo);
    await utimes(young, now, now);

    await store.put('pack', obj.name, obj.data);
    assert.deepEqual(await collect(store.list('pack')), [{ name: obj.name, size: 1000 }]);
    assert.equal(await store.cleanTmp(30 * 60_000), 1);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), ['beefcafe']);
    assert.equal(await store.cleanTmp(30 * 60_000), 0);
    assert.ok((await store.get('pack', obj.name)).equals(obj.data));
  });

  void it('maps a file where a directory belongs to STORAGE_FAILED naming path and errno', async () => {
    const store = await fresh();
    await rm(join(store.root, 'snapshots'), { recursive: true });
    await writeFile(join(store.root, 'snapshots'), 'not a directory');
    const obj = testObject(9);
    const err = await rejectsWithCode(store.put('snapshot', obj.name, obj.data), 'STORAGE_FAILED');
    assert.match(err.message, /ENOTDIR/);
    assert.ok(err.message.includes(join(store.root, 'snapshots')), err.message);
    assert.ok(isHinted(err));
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
    await rejectsWithCode(store.get('snapshot', obj.name), 'STORAGE_FAILED');
    await rejectsWithCode(collect(store.list('snapshot')), 'STORAGE_FAILED');
  });

  void it('rejects create on a path occupied by a file', async () => {
    const path = join(dir, 'occupied');
    await writeFile(path, 'x');
    await rejectsWithCode(new LocalStore(path).create(), 'STORAGE_FAILED');
  });

  void it('writes packs past the page cache on ext4 and XFS, buffered elsewhere', async () => {
    const store = await fresh();
    const size = 3 * 1024 * 1024 + 5; // over DIRECT_MIN_BYTES, not a multiple of a block
    const packs = [testObject(10, size), testObject(11, 64 * 1024)]; // direct, buffered
    for (const { name, data } of packs) {
      const third = Math.floor(data.byteLength / 3);
      await store.put('pack', name, [data.subarray(0, third), data.subarray(third)]);
    }
    // Before any read, which would bring the pack into the page cache.
    const cached = residentBytes(store.files.path('pack', packs[0]!.name));
    if (directWritesSuit((await statfs(store.root)).type)) {
      assert.equal(cached, 0, 'a pack written with O_DIRECT is not left in the page cache');
    } else {
      assert.equal(cached, size, 'packs are written buffered on this file system');
    }
    for (const { name, data } of packs) assert.deepEqual(await store.get('pack', name), data);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });
});

/** Bytes of the file in the page cache (util-linux's fincore). */
function residentBytes(path: string): number {
  const out = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path]);
  return Number(out.toString().trim());
}

function isHinted(err: Error): boolean {
  return typeof (err as { hint?: unknown }).hint === 'string';
}
