/**
 * End to end: damage on disk is found and named. One flipped byte in a data pack fails
 * `check --read-data` (exit 13) naming the pack and the affected file, and a restore fails loudly
 * for that file while every other file restores intact. A damaged tree pack fails even the
 * structural check.
 */
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import { flipByte, packFiles } from '../../testing/repo-files.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { sameContent } from '../../testing/tree-compare.js';

const MiB = 1024 * 1024;

/** Packs present now that were not in `before` (largest first). */
async function newPacks(repo: string, before: readonly string[]): Promise<string[]> {
  return (await packFiles(repo)).map((p) => p.path).filter((p) => !before.includes(p));
}

void describe('damaged data pack', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  let damagedPack: string;
  const victim = (): string => join(src, 'victim.bin');
  const healthy = ['a.txt', 'b.bin', 'sub/c.bin'];

  before(async () => {
    tmp = await makeTempDir('integrity');
    src = join(tmp, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'healthy text\n');
    await writeFile(join(src, 'b.bin'), seededBytes(900_000, 'healthy-b'));
    await writeFile(join(src, 'sub', 'c.bin'), seededBytes(1_500_000, 'healthy-c'));
    repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
    await repo.backup([src]);
    // The victim arrives in a second backup: the healthy files dedup against the first, so the
    // one new data pack holds the victim's blobs and nothing else.
    const packsBefore = (await packFiles(repo.path)).map((p) => p.path);
    await writeSeededFile(victim(), 3 * MiB, 'victim');
    await repo.backup([src]);
    const [largest] = await newPacks(repo.path, packsBefore);
    assert.ok(largest, 'the second backup wrote a data pack');
    damagedPack = largest;
    await repo.ok(['check', '--read-data']); // healthy before the damage
    const { size } = (await packFiles(repo.path)).find((p) => p.path === damagedPack) ?? {};
    await flipByte(damagedPack, Math.floor((size ?? 0) / 2));
  });
  after(() => removeTempDir(tmp));

  void it('check without --read-data does not crash', async () => {
    const r = await repo.run(['check']);
    assert.ok(r.code === 0 || r.code === 13, describeResult(['check'], r));
  });

  void it('check --read-data exits 13 naming the pack and the affected file', async () => {
    const r = await repo.run(['check', '--read-data']);
    assert.equal(r.code, 13, describeResult(['check', '--read-data'], r));
    const output = r.stdout + r.stderr;
    assert.ok(output.includes(basename(damagedPack).slice(0, 8)), `names the pack:\n${output}`);
    assert.ok(output.includes(victim()), `names the affected file:\n${output}`);
    for (const name of healthy) {
      assert.ok(!output.includes(join(src, name)), `does not blame ${name}:\n${output}`);
    }
  });

  void it('restore fails loudly for the damaged file and restores the others intact', async () => {
    const target = join(tmp, 'restore');
    const r = await repo.run(['restore', 'latest', '--target', target]);
    assert.equal(r.code, 13, describeResult(['restore'], r));
    assert.ok(r.stderr.includes('victim.bin'), `names the file:\n${r.stderr}`);
    for (const name of healthy) {
      assert.ok(await sameContent(join(src, name), join(target, src, name)), name);
    }
  });

  void it('restoring only the healthy files succeeds', async () => {
    const target = join(tmp, 'restore-healthy');
    await repo.ok(['restore', 'latest', '--target', target, '--exclude', 'victim.bin']);
    for (const name of healthy) {
      assert.ok(await sameContent(join(src, name), join(target, src, name)), name);
    }
  });
});

void describe('damaged tree pack', () => {
  let tmp: string;
  before(async () => {
    tmp = await makeTempDir('integrity-tree');
  });
  after(() => removeTempDir(tmp));

  void it('the structural check (no --read-data) exits 13', async () => {
    const src = join(tmp, 'src');
    await mkdir(join(src, 'dir'), { recursive: true });
    // Incompressible, so the data pack is surely larger than the tree pack.
    await writeFile(join(src, 'dir', 'file'), seededBytes(100_000, 'tree-test'));
    const repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
    await repo.backup([src]);
    // Trees and data go to separate packs; the tree pack is the small one.
    const packs = await packFiles(repo.path);
    const treePack = packs.at(-1);
    assert.ok(treePack && packs.length >= 2, JSON.stringify(packs));
    await flipByte(treePack.path, Math.floor(treePack.size / 2));
    const r = await repo.run(['check']);
    assert.equal(r.code, 13, describeResult(['check'], r));
    const restore = await repo.run(['restore', 'latest', '--target', join(tmp, 'out')]);
    assert.equal(restore.code, 13, describeResult(['restore'], restore));
  });
});
