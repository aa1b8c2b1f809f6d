/**
 * End to end: a repository on an append-only server against a client that holds the backup
 * credentials and the repository password. It tries to delete, overwrite, truncate and
 * pre-plant objects, forges index files and a lock, and runs forget --prune; afterwards every
 * snapshot still restores byte for byte (rsync as the oracle).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError } from '../../core/index.js';
import { encodeIndexFile, fileIdOf, Repository } from '../../engine/index.js';
import { OBJECT_KINDS, openStore, type ObjectKind, type ObjectStore } from '../../storage/index.js';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import {
  startRestServer,
  TEST_PASSWORD,
  TEST_USER,
  type RestServerFixture,
} from '../../testing/rest-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

const execFileP = promisify(execFile);

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isHoldfastError(err), String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** A raw PUT, as a hostile client would send it: any body under any name. */
function rawPut(url: string, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const auth = Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64');
    const req = request(new URL(path, url), {
      method: 'PUT',
      headers: { Authorization: `Basic ${auth}`, 'Content-Length': body.length },
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function names(store: ObjectStore, kind: ObjectKind): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(kind)) out.push(info.name);
  return out.sort();
}

void describe('append-only repository server', () => {
  let tmp: string;
  let data: string;
  let server: RestServerFixture;
  let repo: CliRepo;
  /** Snapshot id → a copy of the data as it was backed up. */
  const expected = new Map<string, string>();

  before(async () => {
    tmp = await makeTempDir('append-only');
    server = await startRestServer({ appendOnly: true });
    data = join(tmp, 'data');
    await mkdir(join(data, 'sub'), { recursive: true });
    await writeSeededFile(join(data, 'big.bin'), 2 * 1024 * 1024 + 5, 'ao-big');
    for (let i = 0; i < 12; i++)
      await writeFile(join(data, 'sub', `f${i}.txt`), seededBytes(3000 + i, `ao-${i}`));
    repo = new CliRepo(server.location('victim'));
    await repo.init();
    for (const round of [1, 2]) {
      if (round === 2) await writeSeededFile(join(data, 'sub', 'f3.txt'), 9000, 'ao-changed');
      const summary = await repo.backup([data]);
      const copy = join(tmp, `expected-${round}`);
      await execFileP('cp', ['-a', data, copy]);
      expected.set(summary.snapshot_id!, copy);
    }
  });
  const restoresEverySnapshot = async (when: string) => {
    for (const [id, copy] of expected) {
      const target = join(tmp, `restore-${id.slice(0, 8)}-${when.replace(/\W+/g, '-')}`);
      await repo.ok(['restore', id, '--target', target]);
      assert.equal(await rsyncDifferences(copy, join(target, data)), '', `${id} ${when}`);
    }
  };
  after(async () => {
    await server.stop();
    await removeTempDir(tmp);
  });

  void it('refuses deleting anything but locks, overwriting, truncating and pre-planting', async () => {
    const store = openStore(server.location('victim'));
    const before = new Map<ObjectKind, string[]>();
    for (const kind of OBJECT_KINDS) before.set(kind, await names(store, kind));
    for (const kind of OBJECT_KINDS) {
      for (const name of before.get(kind)!) {
        await rejectsWith(store.delete(kind, name), 'STORAGE_FAILED');
        await rejectsWith(store.put(kind, name, Buffer.from('replaced')), 'OBJECT_EXISTS');
      }
    }
    const pack = before.get('pack')![0]!;
    const full = await store.get('pack', pack);
    // Truncation: the object's own first bytes under its own name.
    assert.equal(await rawPut(server.url, `victim/pack/${pack}`, full.subarray(0, 100)), 409);
    assert.equal(await rawPut(server.url, 'victim/config', Buffer.from('{}')), 409);
    // Pre-planting garbage under a name a future backup might write is refused too.
    const future = fileIdOf(Buffer.from('a pack nobody wrote yet'));
    assert.equal(await rawPut(server.url, `victim/pack/${future}`, Buffer.from('garbage')), 400);
    for (const kind of OBJECT_KINDS) assert.deepEqual(await names(store, kind), before.get(kind));
    assert.ok((await store.get('pack', pack)).equals(full));
    await store.close();
  });

  void it('forget --prune fails without deleting anything', async () => {
    const r = await repo.run(['forget', '--keep-last', '1', '--prune']);
    assert.notEqual(r.code, 0, describeResult(['forget'], r));
    assert.equal((await repo.snapshots()).length, 2);
  });

  void it('forged index files and a forged lock leave every snapshot restorable', async () => {
    const store = openStore(server.location('victim'));
    const attacker = await Repository.open(store, repo.password);
    const files = await attacker.readIndexFiles();
    const packs = files.flatMap((f) => [...f.content.packs]);
    const key = attacker.masterKeyForCheck();
    const put = async (content: Parameters<typeof encodeIndexFile>[1]) => {
      const bytes = encodeIndexFile(key, content);
      await store.put('index', fileIdOf(bytes), bytes);
    };
    const otherPack = packs[packs.length - 1]!.packId;
    // Supersedes every real index file and points every blob somewhere wrong.
    await put({
      supersedes: files.map((f) => f.id),
      packs: packs.map((p, i) => ({
        packId: i % 2 ? otherPack : p.packId,
        entries: p.entries.map((e) => ({ ...e, offset: e.offset + 16 })),
      })),
    });
    // An exclusive lock that never goes stale (dated in the future) blocks every operation...
    const lock = attacker.sealLock({
      time: new Date(Date.now() + 10 * 365 * 86400_000).toISOString(),
      exclusive: true,
      mode: 'exclusive',
      hostname: 'elsewhere',
      username: 'mallory',
      pid: 1,
    });
    await store.put('lock', fileIdOf(lock), lock);
    const blocked = await repo.run(['restore', 'latest', '--target', join(tmp, 'blocked')]);
    assert.equal(blocked.code, 11, describeResult(['restore'], blocked));
    // ...until removed: which is why the append-only server lets locks be deleted.
    await repo.ok(['unlock', '--remove-all']);

    await restoresEverySnapshot('after the superseding index');
    // Contradicts every blob's length (and so where each file's blobs would be written).
    await put({
      supersedes: [],
      packs: packs.map((p) => ({
        packId: p.packId,
        entries: p.entries.map((e) => ({ ...e, rawLength: e.rawLength + 1 })),
      })),
    });
    await restoresEverySnapshot('after the contradicting index');
    // check --read-data sees through the forgery.
    const check = await repo.run(['check', '--read-data']);
    assert.equal(check.code, 13, describeResult(['check'], check));
    await store.close();
  });
});
