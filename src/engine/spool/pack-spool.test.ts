/**
 * PackSpool on this machine's file systems: a spool's files hold exactly what was written however
 * the pieces arrive (small, staged, larger than the stage, a download started over), it goes to
 * a disk and never into memory file systems, and it removes what killed restores left behind
 * only once their process is gone and their directory is old.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, statfs, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackId } from '../../core/index.js';
import { seededBytes } from '../../storage/testing/seeded-random.js';
import { PackSpool } from './pack-spool.js';

const PACK = 'ab'.repeat(32) as PackId;
const MiB = 1024 * 1024;
const TMPFS = 0x01021994;

let parent: string;
before(async () => (parent = await mkdtemp(join(tmpdir(), 'holdfast-spool-test-'))));
after(() => rm(parent, { recursive: true, force: true }));

void describe('PackSpool', () => {
  void it('writes pieces of any size to their place, and a download started over again', async () => {
    const spool = (await PackSpool.open([parent]))!;
    assert.ok(spool.dir.startsWith(join(parent, `holdfast-spool-${process.pid}-`)));
    const bytes = seededBytes(5, 3 * MiB + 123);
    const file = await spool.create(PACK);
    // A first attempt cut short, then the whole object again from 0: small pieces, one across
    // the stage's end, one larger than the stage.
    await file.write(bytes.subarray(0, 70_000), 0);
    await file.write(bytes.subarray(70_000, 100_000), 70_000);
    const cuts = [0, 16_384, 40_000, 1_040_000, 1_050_000, 2_700_000, bytes.length];
    for (let i = 1; i < cuts.length; i++)
      await file.write(bytes.subarray(cuts[i - 1], cuts[i]), cuts[i - 1]!);
    assert.equal(await file.finish(Buffer.alloc(0)), bytes.length);
    assert.ok((await readFile(file.path)).equals(bytes));
    // What a store that does not stream answers with is written whole.
    const other = await spool.create(PACK);
    assert.notEqual(other.path, file.path, 'a file per download, even of the same pack');
    assert.equal(await other.finish(bytes), bytes.length);
    assert.ok((await readFile(other.path)).equals(bytes));
    spool.remove(file.path);
    await spool.close();
    await assert.rejects(stat(spool.dir), { code: 'ENOENT' });
  });

  void it('reports a failed write at finish, never to the store writing into it', async () => {
    const spool = (await PackSpool.open([parent]))!;
    const file = await spool.create(PACK);
    await file.write(Buffer.alloc(2 * MiB, 1), 0);
    await file.discard();
    await assert.rejects(stat(file.path), { code: 'ENOENT' }, 'discarded');
    await file.write(Buffer.alloc(10, 2), 2 * MiB); // resolves: the failure is kept
    await assert.rejects(file.finish(Buffer.alloc(0)), /written after it was closed/);
    // A spool whose directory went away cannot make files: the cache then keeps packs in memory.
    await rm(spool.dir, { recursive: true });
    await assert.rejects(spool.create(PACK), { code: 'ENOENT' });
    await spool.close();
  });

  void it('is on a disk: a parent that is missing or memory is passed over', async () => {
    const missing = join(parent, 'missing');
    assert.equal(await PackSpool.open([missing]), undefined);
    const shm = '/dev/shm';
    const memory = await statfs(shm).then(
      (s) => Number(s.type) === TMPFS,
      () => false,
    );
    if (!memory) return; // no tmpfs here: the missing parent above still ran
    assert.equal(await PackSpool.open([shm]), undefined, 'tmpfs is memory');
    const spool = (await PackSpool.open([shm, missing, parent]))!;
    assert.ok(spool.dir.startsWith(parent), 'the first on a disk');
    await spool.close();
  });

  void it('removes what killed restores left, once they are old and their process is gone', async () => {
    const dir = await mkdtemp(join(parent, 'orphans-'));
    // A pid that cannot run: above the kernel's limit.
    const gone = 'holdfast-spool-4194305-aaaaaa';
    const goneRecent = 'holdfast-spool-4194305-bbbbbb';
    const running = `holdfast-spool-${process.ppid}-cccccc`;
    for (const name of [gone, goneRecent, running]) {
      await mkdir(join(dir, name));
      await mkdir(join(dir, name, 'inner'));
    }
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(dir, gone), old, old);
    await utimes(join(dir, running), old, old);
    const spool = (await PackSpool.open([dir]))!;
    const left = await readdir(dir);
    assert.ok(!left.includes(gone), 'an old directory of a process that is gone');
    assert.ok(left.includes(goneRecent), 'kept: it changed lately (another PID namespace)');
    assert.ok(left.includes(running), 'kept: its process runs');
    await spool.close();
  });
});
