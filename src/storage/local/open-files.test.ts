import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { OpenFiles, readAt } from './open-files.js';

const openCount = (): number => readdirSync('/proc/self/fd').length;

/** Waits until `check` holds (closes run in the thread pool), for at most 5 s. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 5000) assert.fail(what);
    await sleep(10);
  }
}

/** The first `n` bytes of `path` through `files`. */
async function head(files: OpenFiles, path: string, n: number): Promise<string> {
  return files.use(path, async (fd) => {
    const buf = Buffer.alloc(n);
    const got = await readAt(fd, buf, 0, n, 0);
    return buf.subarray(0, got).toString();
  });
}

void describe('OpenFiles', () => {
  let dir = '';
  const path = (i: number): string => join(dir, `f${i}`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-open-files-'));
    for (let i = 0; i < 6; i++) await writeFile(path(i), `file ${i}`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('reads through one descriptor per file, and keeps at most `limit` unused', async () => {
    const files = new OpenFiles(2);
    const before = openCount();
    for (let round = 0; round < 3; round++) assert.equal(await head(files, path(0), 6), 'file 0');
    assert.equal(openCount() - before, 1);
    for (let i = 0; i < 6; i++) assert.equal(await head(files, path(i), 6), `file ${i}`);
    assert.equal(files.size, 2);
    await eventually(() => openCount() - before === 2, 'two descriptors left open');
    files.closeAll();
    await eventually(() => openCount() === before, 'every descriptor closed');
  });

  void it('never closes a descriptor while a reader uses it', async () => {
    const files = new OpenFiles(1);
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = files.use(path(0), async (fd) => {
      await held;
      // Evicted meanwhile, but still this file's descriptor.
      const buf = Buffer.alloc(6);
      await readAt(fd, buf, 0, 6, 0);
      return buf.toString();
    });
    await sleep(5);
    for (let i = 1; i < 6; i++) await head(files, path(i), 6);
    files.forget(path(0));
    await sleep(20);
    release();
    assert.equal(await slow, 'file 0');
    files.closeAll();
  });

  void it('does not keep a failed open, and closes idle descriptors by itself', async () => {
    const files = new OpenFiles(8, 50);
    const later = join(dir, 'later');
    await assert.rejects(head(files, later, 1), { code: 'ENOENT' });
    await writeFile(later, 'now here');
    assert.equal(await head(files, later, 8), 'now here');
    const before = openCount();
    assert.equal(files.size, 1);
    await eventually(
      () => files.size === 0 && openCount() === before - 1,
      'idle descriptor closed',
    );
  });
});
