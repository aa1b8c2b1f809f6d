/**
 * saveStream: a stream's content (stdin, a database dump) saved chunk by chunk. Its memory must
 * not grow with the stream: what was read is garbage once chunked, sealed and packed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryStore } from '../../storage/index.js';
import { Repository } from '../repository/index.js';
import { ChunkerPool, saveStream } from './file-saver.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

void test('saveStream with a signal keeps no reference to the data it has read', async () => {
  const repo = await Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
  });
  const writer = repo.writer();
  const reads = 64;
  const read: WeakRef<Buffer>[] = [];
  let alive = -1;
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < reads; i++) {
      const data = randomBytes(64 * 1024);
      read.push(new WeakRef(data));
      yield data;
      await new Promise((resolve) => setImmediate(resolve));
      if (i === reads - 1) {
        // The last read is still in use; the first half were chunked long ago.
        gc();
        alive = read.slice(0, reads / 2).filter((ref) => ref.deref() !== undefined).length;
      }
    }
  }
  const chunkers = new ChunkerPool(repo.chunkerKey, repo.chunkerParams);
  const signal = new AbortController().signal;
  const saved = await saveStream(source(), { writer, chunkers, signal });
  await writer.flush();
  assert.equal(saved.bytes, reads * 64 * 1024);
  assert.equal(alive, 0, `${alive} of the first ${reads / 2} reads still referenced`);
});
