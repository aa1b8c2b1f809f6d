import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DirectoryReader, walkOrder } from './directory-reader.js';
import type { FsEntry } from './fs-entry.js';
import { listDirectory } from './list-directory.js';
import { joinPath } from './path-bytes.js';

/** A depth-first walk that announces each directory's subdirectories, as the archiver does. */
type Lister = Pick<DirectoryReader, 'list' | 'readAhead'>;

async function walk(reader: Lister, dir: Buffer, seen: string[]): Promise<void> {
  const listing = await reader.list(dir);
  seen.push(`${dir.toString()}: ${listing.entries.map((e) => e.name.toString()).join(' ')}`);
  const subdirs = listing.entries.filter((e) => e.type === 'dir').map((e) => e.path);
  reader.readAhead(subdirs);
  for (const sub of subdirs) await walk(reader, sub, seen);
}

void describe('DirectoryReader', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-reader-'));
    // Three levels of five directories with two files each: 156 directories.
    const fill = async (dir: string, depth: number): Promise<void> => {
      await writeFile(join(dir, 'f1'), 'one');
      await writeFile(join(dir, 'f2'), 'two');
      if (depth === 0) return;
      for (let i = 0; i < 5; i++) {
        await mkdir(join(dir, `d${i}`));
        await fill(join(dir, `d${i}`), depth - 1);
      }
    };
    await fill(root, 3);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const intoDirs = (e: FsEntry): boolean => e.type === 'dir';
  for (const [parallel, ahead, descend] of [
    [4, 64, undefined],
    [1, 2, undefined],
    [2, 0, undefined],
    [4, 64, intoDirs],
    [1, 2, intoDirs],
    [4, 8, intoDirs],
  ] as const) {
    const how = `parallel ${parallel}, ahead ${ahead}${descend ? ', descending on its own' : ''}`;
    void it(`gives the same listings as listDirectory (${how})`, async () => {
      const plain: string[] = [];
      const direct: Lister = { list: (d) => listDirectory(d), readAhead: () => undefined };
      await walk(direct, Buffer.from(root), plain);
      const reader = new DirectoryReader({ parallel, ahead, ...(descend && { descend }) });
      const seen: string[] = [];
      await walk(reader, Buffer.from(root), seen);
      assert.equal(seen.length, 156);
      assert.deepEqual(seen, plain);
      // Directories listed on demand before their read-ahead started are not read again later.
      await delay(50);
      assert.equal(reader.readingAhead, 0);
    });
  }

  void it('reports a directory that cannot be read when it is taken, not before', async () => {
    const reader = new DirectoryReader();
    const missing = joinPath(Buffer.from(root), Buffer.from('missing'));
    reader.readAhead([missing]);
    await delay(20);
    await assert.rejects(reader.list(missing), { code: 'ENOENT' });
  });

  /** Waits until the reader has nothing running: its read-ahead count stops changing. */
  async function settled(reader: DirectoryReader): Promise<number> {
    let last = -1;
    while (reader.readingAhead !== last) {
      last = reader.readingAhead;
      await delay(30);
    }
    return last;
  }

  void it('with descend, reads below an announced directory up to its bound, without being asked', async () => {
    const plain = new DirectoryReader({ ahead: 8 });
    plain.readAhead([Buffer.from(root)]);
    assert.equal(await settled(plain), 1, 'without descend only what was announced');
    const reader = new DirectoryReader({ ahead: 8, descend: intoDirs });
    reader.readAhead([Buffer.from(root)]);
    assert.equal(await settled(reader), 8);
    const excluding = new DirectoryReader({
      ahead: 200,
      descend: (e) => e.type === 'dir' && !e.path.toString().endsWith('/d0'),
    });
    excluding.readAhead([Buffer.from(root)]);
    // 156 directories; d0 at each level is left out with everything below it:
    // 1 + 4 + 4·4 + 4·4·4 = 85 listings.
    assert.equal(await settled(excluding), 85);
  });

  void it('starts nothing more while the listings read ahead hold aheadEntries entries', async () => {
    const reader = new DirectoryReader({ aheadEntries: 5, descend: intoDirs });
    reader.readAhead([Buffer.from(root)]);
    // The root's listing (7 entries) is over the bound: its subdirectories are announced, not read.
    assert.equal(await settled(reader), 1);
    await reader.list(Buffer.from(root));
    // Taken, it frees the bound: the next jobs start (at most `parallel` before any finishes).
    const ahead = await settled(reader);
    assert.ok(ahead >= 1 && ahead <= 4, `${ahead} read ahead`);
  });

  void it('drops listings read ahead that the walk went past once they fill every place', async () => {
    const reader = new DirectoryReader({ ahead: 2 });
    const d = (name: string): Buffer => Buffer.from(join(root, name));
    // Read ahead for the walk, which then does not enter d0 and d1 (an exclusion the reader
    // was not told about) but goes on to d2: both places are taken by listings it went past.
    reader.readAhead([d('d0'), d('d1')]);
    assert.equal(await settled(reader), 2);
    await reader.list(d('d2'));
    assert.equal(reader.readingAhead, 0, 'd0 and d1 sort before d2: dropped');
    reader.readAhead([d('d3'), d('d4')]);
    assert.equal(await settled(reader), 2, 'the places are free for what comes next');
    await reader.list(d('d3'));
    assert.equal(reader.listedOnDemand, 1, 'd3 was read ahead, d2 was not');
    assert.equal(reader.readingAhead, 1, 'd4, still ahead of the walk, is kept');
  });

  void it('walkOrder is the order in which the depth-first walk lists directories', async () => {
    const top = join(root, 'order');
    for (const d of ['a/z/y', 'a-b', 'a.c/x', 'b', 'a0'])
      await mkdir(join(top, d), { recursive: true });
    const visited: string[] = [];
    const direct: Lister = { list: (d) => listDirectory(d), readAhead: () => undefined };
    await walk(direct, Buffer.from(top), visited);
    const dirs = visited.map((line) => Buffer.from(line.slice(0, line.indexOf(':'))));
    const sorted = [...dirs].sort(walkOrder);
    assert.deepEqual(sorted.map(String), dirs.map(String));
    // Byte order alone would put "a-b" (0x2d) before "a/z" (0x2f).
    assert.ok(walkOrder(Buffer.from('/t/a/z'), Buffer.from('/t/a-b')) < 0);
    assert.ok(walkOrder(Buffer.from('/t/a'), Buffer.from('/t/a/z')) < 0);
    assert.equal(walkOrder(Buffer.from('/t/a'), Buffer.from('/t/a')), 0);
  });
});
