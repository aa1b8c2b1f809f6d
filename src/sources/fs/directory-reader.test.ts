import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DirectoryReader } from './directory-reader.js';
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

  void it('drops listings read ahead that the walk went past, and lists on demand what it needs', async () => {
    // The reader descends everywhere; the walk skips every d0 (an exclusion the reader was not
    // told about), so listings below d0 are never taken.
    const reader = new DirectoryReader({ ahead: 4, descend: intoDirs });
    const seen: string[] = [];
    const skipping: Lister = {
      list: (d) => reader.list(d),
      readAhead: (dirs) => reader.readAhead(dirs.filter((d) => !d.toString().endsWith('/d0'))),
    };
    const walkSkipping = async (dir: Buffer): Promise<void> => {
      const listing = await skipping.list(dir);
      seen.push(dir.toString());
      const subdirs = listing.entries
        .filter((e) => e.type === 'dir' && !e.path.toString().endsWith('/d0'))
        .map((e) => e.path);
      skipping.readAhead(subdirs);
      for (const sub of subdirs) await walkSkipping(sub);
    };
    await walkSkipping(Buffer.from(root));
    assert.equal(seen.length, 85);
    // Without dropping them, the stale listings would fill the four places for good and every
    // later directory would be listed on demand.
    assert.ok(reader.listedOnDemand < 75, `${reader.listedOnDemand} listed on demand`);
  });
});
