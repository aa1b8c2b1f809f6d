/**
 * saveStream: a stream's content (stdin, a database dump) saved chunk by chunk. Its memory must
 * not grow with the stream: what was read is garbage once chunked, sealed and packed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryStore } from '../../storage/index.js';
import { chunkLengths } from '../chunker/index.js';
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
  const saved = await saveStream(source(), { writer, chunkers, idKey: repo.idKey, signal });
  await writer.flush();
  assert.equal(saved.bytes, reads * 64 * 1024);
  assert.equal(alive, 0, `${alive} of the first ${reads / 2} reads still referenced`);
});

void test('saveStream stores the chunks of the whole stream under their blob ids', async () => {
  const repo = await Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
  });
  const writer = repo.writer();
  const data = randomBytes(9 * 1024 * 1024 + 12_345);
  const reads: Buffer[] = [];
  for (let at = 0; at < data.length; at += 100_003) reads.push(data.subarray(at, at + 100_003));
  const chunkers = new ChunkerPool(repo.chunkerKey, repo.chunkerParams);
  const saved = await saveStream(Readable.from(reads), { writer, chunkers, idKey: repo.idKey });
  await writer.flush();
  let at = 0;
  const expected = chunkLengths(repo.chunkerKey, repo.chunkerParams, data).map((n) => {
    at += n;
    return repo.blobId('data', data.subarray(at - n, at));
  });
  assert.ok(expected.length > 4);
  assert.deepEqual(saved.content, expected);
  const blobs = await Promise.all(saved.content.map((id) => repo.loadBlob('data', id)));
  assert.ok(Buffer.concat(blobs).equals(data));
});
