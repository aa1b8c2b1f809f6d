import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, removeTempDir } from '../../../testing/temp-dir.js';
import { PackFiles } from './pack-files.js';

let dir: string;
before(async () => {
  dir = await makeTempDir('pack-files-');
});
after(async () => {
  await removeTempDir(dir);
});

void test('reads growing ranges into a buffer that grows by doubling, each read exact', () => {
  const MiB = 1024 * 1024;
  const path = join(dir, 'pack');
  const bytes = randomBytes(12 * MiB);
  writeFileSync(path, bytes);
  const files = new PackFiles();
  const buffers = new Set<ArrayBufferLike>();
  try {
    for (const length of [0.5, 1.5, 2.5, 3, 4.5, 5, 6.5, 7.5, 8, 9].map((n) => n * MiB)) {
      // Two segments, the second first in the file: read one after the other, in given order.
      const half = Math.floor(length / 2);
      const read = files.read(path, 1000, [
        [half + 10, length - half],
        [0, half],
      ]);
      const expected = Buffer.concat([
        bytes.subarray(1000 + half + 10, 1000 + length + 10),
        bytes.subarray(1000, 1000 + half),
      ]);
      assert.ok(read.equals(expected), `${length}`);
      buffers.add(read.buffer);
    }
  } finally {
    files.closeAll();
  }
  // 1 MiB, then 2, 4 and 8 MiB (doubling up to 8 MiB), then exactly 9 MiB: five buffers, not
  // one per new largest read (ten).
  assert.equal(buffers.size, 5);
});

void test('closes the descriptor of one file on request, and opens it again for the next read', () => {
  const path = join(dir, 'spooled');
  writeFileSync(path, randomBytes(4096));
  const files = new PackFiles();
  const open = (): number => readdirSync('/proc/self/fd').length;
  const before = open();
  try {
    files.read(path, 0, [[0, 100]]);
    assert.equal(open(), before + 1, 'kept open for the next range');
    files.close(path);
    assert.equal(open(), before, 'closed');
    files.close(path); // not open: nothing to do
    assert.equal(files.read(path, 100, [[0, 10]]).length, 10, 'read again after the close');
  } finally {
    files.closeAll();
  }
  assert.equal(open(), before);
});
