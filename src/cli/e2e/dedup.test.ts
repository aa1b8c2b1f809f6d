/**
 * End to end: deduplication and the parent snapshot. The same data stored twice costs almost
 * nothing; a one-byte insertion costs a few chunks, not the file; unchanged files are neither
 * read nor stored again.
 */
import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo } from '../../testing/cli-harness.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import { diskUsage } from '../../testing/repo-files.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

const MiB = 1024 * 1024;

/** Bytes this process has read through read(2)-like calls so far (/proc/self/io rchar). */
async function bytesReadByThisProcess(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  const match = /^rchar: (\d+)$/m.exec(io);
  assert.ok(match?.[1], io);
  return Number(match[1]);
}

/** A mixed tree of about 26 MiB: large random files, many small ones, some compressible text. */
async function buildDataTree(root: string): Promise<void> {
  await mkdir(join(root, 'big'), { recursive: true });
  await writeSeededFile(join(root, 'big', 'one.bin'), 10 * MiB, 'big-1');
  await writeSeededFile(join(root, 'big', 'two.bin'), 7 * MiB + 333, 'big-2');
  for (let d = 0; d < 8; d++) {
    const dir = join(root, 'small', `d${d}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 25; f++) {
      await writeFile(join(dir, `f${f}.bin`), seededBytes(1000 + 997 * f, `small-${d}-${f}`));
    }
  }
  const lines = Array.from({ length: 60_000 }, (_, i) => `line ${i}: the quick brown fox\n`);
  await writeFile(join(root, 'text.log'), lines.join(''));
}

void describe('deduplication', () => {
  let tmp: string;
  before(async () => {
    tmp = await makeTempDir('dedup');
  });
  after(() => removeTempDir(tmp));

  void it('a second backup of the same data grows the repository by less than 1%', async () => {
    const src = join(tmp, 'same', 'src');
    await buildDataTree(src);
    const repo = new CliRepo(join(tmp, 'same', 'repo'));
    await repo.init();
    await repo.backup([src]);
    const first = await diskUsage(repo.path);
    // --force reads and chunks everything again: dedup, not the parent shortcut, must save it.
    const again = await repo.backup(['--force', src]);
    assert.equal(again.data_blobs, 0, 'no new data blobs');
    // The same content under another path has no parent snapshot at all.
    const copy = join(tmp, 'same', 'copy');
    await cp(src, copy, { recursive: true });
    const copied = await repo.backup([copy]);
    assert.equal(copied.data_blobs, 0, 'no new data blobs for a copy');
    assert.ok(copied.files_new > 200, `files_new ${copied.files_new}`);
    const grown = (await diskUsage(repo.path)) - first;
    assert.ok(grown < first * 0.01, `grew ${grown} bytes on ${first} (limit 1%)`);
    await repo.ok(['check', '--read-data']);
  });

  void it('inserting one byte at the start of a 64 MiB file adds at most 3 data blobs', async () => {
    const src = join(tmp, 'insert', 'src');
    await mkdir(src, { recursive: true });
    const file = join(src, 'random.bin');
    const original = seededBytes(64 * MiB, 'insert');
    await writeFile(file, original);
    const repo = new CliRepo(join(tmp, 'insert', 'repo'));
    await repo.init();
    const first = await repo.backup([src]);
    assert.ok(first.data_blobs >= 16, `64 MiB in ${first.data_blobs} blobs`);
    await writeFile(file, Buffer.concat([Buffer.from([0x42]), original]));
    const second = await repo.backup([src]);
    assert.equal(second.files_changed, 1);
    assert.ok(
      second.data_blobs >= 1 && second.data_blobs <= 3,
      `data_blobs ${second.data_blobs} after a one-byte insert`,
    );
    const dumped = await repo.ok(['dump', 'latest', file]);
    assert.ok(dumped.stdoutBytes.equals(await readFile(file)), 'dump returns the new content');
  });
});

void describe('parent snapshot', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  const bigSize = 16 * MiB;
  before(async () => {
    tmp = await makeTempDir('parent');
    src = join(tmp, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeSeededFile(join(src, 'big.bin'), bigSize, 'parent-big');
    for (let i = 0; i < 10; i++) await writeFile(join(src, 'sub', `n${i}.txt`), `note ${i}\n`);
    repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
    const first = await repo.backup([src]);
    assert.equal(first.files_new, 11);
  });
  after(() => removeTempDir(tmp));

  void it('reports unchanged files as unmodified without reading them', async () => {
    const before = await bytesReadByThisProcess();
    const second = await repo.backup([src]);
    const read = (await bytesReadByThisProcess()) - before;
    assert.deepEqual(
      [second.files_new, second.files_changed, second.files_unmodified, second.data_blobs],
      [0, 0, 11, 0],
    );
    assert.ok(read < bigSize / 4, `read ${read} bytes for a backup of unchanged files`);
    const [, latest] = (await repo.snapshots()).slice(-2);
    assert.ok(latest?.parent, 'the snapshot names its parent');

    // The control: --force must read the big file, so the measure above can see a read.
    const beforeForce = await bytesReadByThisProcess();
    await repo.backup(['--force', src]);
    const readForced = (await bytesReadByThisProcess()) - beforeForce;
    assert.ok(readForced >= bigSize, `--force read only ${readForced} bytes`);
  });

  void it('counts a modified file as changed and stores only its new content', async () => {
    await appendFile(join(src, 'sub', 'n3.txt'), 'one more line\n');
    // Same size, new content: ctime and mtime reveal it even when the size does not.
    const handle = await open(join(src, 'sub', 'n5.txt'), 'r+');
    await handle.write('N', 0);
    await handle.close();
    const third = await repo.backup([src]);
    assert.deepEqual([third.files_new, third.files_changed, third.files_unmodified], [0, 2, 9]);
    assert.equal(third.data_blobs, 2);
    const dumped = await repo.ok(['dump', 'latest', join(src, 'sub', 'n5.txt')]);
    assert.equal(dumped.stdout, 'Note 5\n');
  });
});
