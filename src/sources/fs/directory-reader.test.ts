import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DirectoryReader } from './directory-reader.js';
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

  for (const [parallel, ahead] of [
    [4, 64],
    [1, 2],
    [2, 0],
  ] as const) {
    void it(`gives the same listings as listDirectory (parallel ${parallel}, ahead ${ahead})`, async () => {
      const plain: string[] = [];
      const direct: Lister = { list: (d) => listDirectory(d), readAhead: () => undefined };
      await walk(direct, Buffer.from(root), plain);
      const reader = new DirectoryReader({ parallel, ahead });
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
});
