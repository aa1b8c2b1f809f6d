import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { errnoCode } from '../../core/index.js';
import { rejectsWithCode } from '../testing/conformance.js';
import { ALIGN, DIRECT_OPEN_FLAGS, directWritesSuit, writeBodyDirect } from './direct-write.js';

const MiB = 1024 * 1024;

/**
 * A new directory on a file system that takes O_DIRECT: below the system's temporary directory,
 * else below the working directory (a tmpfs before Linux 6.6 refuses the flag), else none.
 */
async function directDir(): Promise<string | undefined> {
  for (const parent of [tmpdir(), process.cwd()]) {
    const dir = await mkdtemp(join(parent, 'holdfast-direct-'));
    try {
      await (await open(join(dir, 'probe'), DIRECT_OPEN_FLAGS, 0o600)).close();
      return dir;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (errnoCode(err) !== 'EINVAL') throw err;
    }
  }
  return undefined;
}

const found = await directDir();

void describe('writeBodyDirect', { skip: !found && 'no file system here takes O_DIRECT' }, () => {
  const dir = found!;
  let n = 0;

  after(() => rm(dir, { recursive: true, force: true }));

  /** Writes `parts` to a new file with O_DIRECT and returns what the file holds. */
  const write = async (parts: readonly Uint8Array[], signal?: AbortSignal): Promise<Buffer> => {
    const path = join(dir, `f${++n}`);
    const handle = await open(path, DIRECT_OPEN_FLAGS, 0o600);
    try {
      const length = parts.reduce((sum, p) => sum + p.byteLength, 0);
      await writeBodyDirect(handle, parts, length, signal);
    } finally {
      await handle.close();
    }
    return readFile(path);
  };

  void it('stores parts back to back and exactly as long, across chunk boundaries', async () => {
    const shapes: number[][] = [
      [1], // shorter than one block: padded, then cut
      [ALIGN], // exactly one block: nothing to cut
      [MiB], // exactly one chunk
      [3 * MiB + 17], // one part over several chunks
      [0, 5, MiB - 5, 0, 1, 2 * MiB + ALIGN - 1, 0], // parts ending mid-chunk, empty parts
      Array.from({ length: 700 }, (_, i) => (i * 7919) % 9000), // many small parts (blobs)
    ];
    for (const shape of shapes) {
      const parts = shape.map((size) => randomBytes(size));
      const stored = await write(parts);
      assert.deepEqual(stored, Buffer.concat(parts), `parts of ${shape.length} sizes`);
    }
  });

  void it('writes more bodies at once than it has slots, none mixing into another', async () => {
    const bodies = Array.from({ length: 5 }, (_, i) => [
      randomBytes(MiB + i * 1000),
      randomBytes(MiB / 2 + 3),
    ]);
    const stored = await Promise.all(bodies.map((parts) => write(parts)));
    stored.forEach((bytes, i) => assert.deepEqual(bytes, Buffer.concat(bodies[i]!), `body ${i}`));
  });

  void it('honours an abort between chunks, and frees its chunks for the next body', async () => {
    const controller = new AbortController();
    controller.abort();
    await rejectsWithCode(write([randomBytes(3 * MiB)], controller.signal), 'INTERRUPTED');
    const parts = [randomBytes(2 * MiB + 1)];
    assert.deepEqual(await write(parts), Buffer.concat(parts));
  });

  void it('takes only local disk file systems whose O_DIRECT is real', () => {
    assert.equal(directWritesSuit(0xef53), true, 'ext4');
    assert.equal(directWritesSuit(0x58465342), true, 'XFS');
    assert.equal(directWritesSuit(0x01021994), false, 'tmpfs');
    assert.equal(directWritesSuit(0x6969), false, 'NFS');
    assert.equal(directWritesSuit(0x65735546), false, 'FUSE');
  });
});
