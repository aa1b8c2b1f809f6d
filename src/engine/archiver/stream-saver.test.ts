/**
 * saveStream: a stream's content (stdin, a database dump) saved chunk by chunk. Its memory must
 * not grow with the stream: what was read is garbage once chunked, sealed and packed.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryStore } from '../../storage/index.js';
import { chunkIds } from '../../testing/chunk-ids.js';
import { chunkLengths } from '../chunker/index.js';
import { Repository } from '../repository/index.js';
import { ChunkerPool } from './file-saver.js';
import { POOLED_FROM, saveStream } from './stream-saver.js';
import { FileSealerPool } from './sealers/file-sealer-pool.js';

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
  const saved = await saveStream(source(), { writer, chunkers, repo, signal });
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
  const saved = await saveStream(Readable.from(reads), { writer, chunkers, repo });
  await writer.flush();
  const expected = chunkIds(repo, data);
  assert.ok(expected.length > 4);
  assert.deepEqual(saved.content, expected);
  const blobs = await Promise.all(saved.content.map((id) => repo.loadBlob('data', id)));
  assert.ok(Buffer.concat(blobs).equals(data));
});

/**
 * Saves `data` as a stream through a real sealer pool of two and checks content, ids, bytes and
 * dedup against the chunker's own cut; returns how many batches went to the sealers.
 */
async function saveThroughSealers(data: Buffer): Promise<number> {
  const repo = await Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
    packSize: 4 * 1024 * 1024,
  });
  const writer = repo.writer();
  const reads: Buffer[] = [];
  for (let at = 0; at < data.length; at += 1 << 20) reads.push(data.subarray(at, at + (1 << 20)));
  const chunkers = new ChunkerPool(repo.chunkerKey, repo.chunkerParams);
  // Counts the batches handed to the sealers (the pool itself is the real one).
  const { seal } = Object.getOwnPropertyDescriptors(FileSealerPool.prototype);
  let batches = 0;
  FileSealerPool.prototype.seal = function (this: FileSealerPool, chunks) {
    batches++;
    return (seal.value as FileSealerPool['seal']).call(this, chunks);
  };
  let saved;
  try {
    saved = await saveStream(Readable.from(reads), { writer, chunkers, repo, threads: 2 });
  } finally {
    Object.defineProperty(FileSealerPool.prototype, 'seal', seal);
  }
  const stats = await writer.flush();
  const expected = chunkIds(repo, data);
  const lengths = chunkLengths(repo.chunkerKey, repo.chunkerParams, data);
  const distinct = new Map(expected.map((id, i) => [id, lengths[i]!]));
  assert.ok(distinct.size < expected.length, 'some chunks repeat');
  assert.equal(saved.bytes, data.length);
  assert.deepEqual(saved.content, expected);
  const blobs = await Promise.all(saved.content.map((id) => repo.loadBlob('data', id)));
  assert.ok(Buffer.concat(blobs).equals(data));
  // Each distinct blob stored once: the repeating chunks not again.
  assert.equal(stats.dataBlobs, distinct.size);
  assert.equal(
    stats.dataAdded,
    [...distinct.values()].reduce((a, n) => a + n, 0),
  );
  return batches;
}

/**
 * Incompressible, reproducible bytes: where the chunker finds its cuts in a repeat depends on
 * the bytes before it, so the repeat's dedup must not depend on the run.
 */
function seeded(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** Text-like bytes that compress (numbered lines, so chunks differ). */
function sqlText(bytes: number, from: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = from; n < bytes; i++) {
    const line = `INSERT INTO accounts VALUES (${i}, 'holder ${i % 977}', ${(i * 37) % 10007});\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

void test('a compressible stream past POOLED_FROM is sealed by the sealers, intact', async () => {
  // Past the first POOLED_FROM bytes: text, random bytes, and a run of zeros, whose chunks repeat whatever the repository's chunker key (the cut points
  // of a repeat of arbitrary bytes depend on it).
  const data = Buffer.concat([
    sqlText(POOLED_FROM, 0),
    sqlText(12 << 20, 1e7),
    seeded(5_000_001, 'between'),
    Buffer.alloc(24 << 20),
  ]);
  const batches = await saveThroughSealers(data);
  // ≈ 40 MB past the threshold (less what repeats), in batches of ≈ 4 MiB.
  assert.ok(batches >= 3, `${batches} batches`);
});

void test('an incompressible stream past POOLED_FROM is sealed by the sealers too, intact', async () => {
  const data = Buffer.concat([
    seeded(POOLED_FROM, 'head'),
    seeded(12 << 20, 'tail'),
    Buffer.alloc(24 << 20),
  ]);
  assert.ok((await saveThroughSealers(data)) >= 3);
});

void test('a stream no longer than POOLED_FROM stays on the main thread, intact', async () => {
  const data = Buffer.concat([sqlText(8 << 20, 0), Buffer.alloc(POOLED_FROM - (8 << 20) - 1)]);
  assert.equal(await saveThroughSealers(data), 0);
});
