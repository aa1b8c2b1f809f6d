import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { Chunker, chunkLengths, DEFAULT_CHUNKER_PARAMS, type ChunkerParams } from './index.js';

// Fixed vectors. Key: bytes 0x00..0x1f. Input: AES-256-CTR keystream with key = 32 x 0x42 and
// an all-zero 16-byte IV (i.e. the encryption of zero bytes). Frozen: a change here is a
// repository format change.
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const SMALL: ChunkerParams = { minSize: 2048, avgSize: 8192, maxSize: 65536 };

function randomBytes(length: number): Buffer {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 0x42), Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

/** xorshift32: deterministic split points for the streaming tests. */
function splitter(seed: number): (max: number) => number {
  let x = seed | 0;
  return (max) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % max);
  };
}

function chunkStream(
  params: ChunkerParams,
  data: Buffer,
  nextSize: (max: number) => number,
  maxRead: number,
): Buffer[] {
  const chunker = new Chunker(KEY, params);
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length;) {
    const size = Math.min(nextSize(maxRead), data.length - off);
    chunks.push(...chunker.push(data.subarray(off, off + size)));
    off += size;
  }
  chunks.push(...chunker.finish());
  return chunks;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

void test('vector: small params, 256 KiB of random data', () => {
  assert.deepEqual(
    chunkLengths(KEY, SMALL, randomBytes(256 * 1024)),
    [
      7252, 10695, 9934, 8746, 4974, 9394, 5563, 10684, 9268, 9239, 4285, 9538, 11095, 9604, 9091,
      8624, 9655, 9116, 8803, 8219, 9184, 13152, 9602, 9105, 9845, 10729, 8237, 15634, 2877,
    ],
  );
});

void test('vector: default params, 16 MiB of random data', () => {
  assert.deepEqual(
    chunkLengths(KEY, DEFAULT_CHUNKER_PARAMS, randomBytes(16 * 1024 * 1024)),
    [
      1489559, 974303, 1075744, 1100898, 1214847, 1214086, 1134122, 1316596, 1187886, 1255506,
      1175501, 1618964, 889311, 1129893,
    ],
  );
});

void test('vector: all-zero input never matches a mask and is cut at maxSize', () => {
  assert.deepEqual(chunkLengths(KEY, SMALL, Buffer.alloc(200 * 1024)), [65536, 65536, 65536, 8192]);
  assert.deepEqual(
    chunkLengths(KEY, DEFAULT_CHUNKER_PARAMS, Buffer.alloc(20 * 1024 * 1024)),
    [8388608, 8388608, 4194304],
  );
});

void test('empty input has no chunks', () => {
  assert.deepEqual(chunkLengths(KEY, SMALL, Buffer.alloc(0)), []);
  const chunker = new Chunker(KEY, SMALL);
  assert.deepEqual(chunker.push(Buffer.alloc(0)), []);
  assert.deepEqual(chunker.finish(), []);
});

void test('a different key gives different boundaries', () => {
  const data = randomBytes(256 * 1024);
  const other = chunkLengths(Buffer.alloc(32, 0xff), SMALL, data);
  assert.notDeepEqual(other, chunkLengths(KEY, SMALL, data));
  assert.equal(
    other.reduce((a, b) => a + b, 0),
    data.length,
  );
});

void test('chunks stay within [min, max] except the last, and the average is near avgSize', () => {
  for (const params of [SMALL, DEFAULT_CHUNKER_PARAMS]) {
    const data = randomBytes(params === SMALL ? 16 * 1024 * 1024 : 64 * 1024 * 1024);
    const lengths = chunkLengths(KEY, params, data);
    for (const len of lengths.slice(0, -1)) {
      assert.ok(len > params.minSize && len <= params.maxSize, `length ${len}`);
    }
    const mean = data.length / lengths.length;
    // Normalized chunking puts the mean a little above avgSize (about +15..20%).
    assert.ok(Math.abs(mean / params.avgSize - 1) < 0.3, `mean ${mean}`);
  }
});

void test('boundaries do not depend on how the stream is split into pushes', () => {
  const data = randomBytes(4 * 1024 * 1024);
  const expected = chunkLengths(KEY, SMALL, data);
  for (const [seed, maxRead] of [
    [1, 1000],
    [2, 20_000],
    [3, 200_000],
    [4, 4 * 1024 * 1024],
  ] as const) {
    const chunks = chunkStream(SMALL, data, splitter(seed), maxRead);
    assert.deepEqual(
      chunks.map((c) => c.length),
      expected,
      `seed ${seed}`,
    );
    assert.ok(Buffer.concat(chunks).equals(data));
  }
  const tiny = data.subarray(0, 100_000);
  const oneByte = chunkStream(SMALL, tiny, () => 1, 1);
  assert.deepEqual(
    oneByte.map((c) => c.length),
    chunkLengths(KEY, SMALL, tiny),
  );
});

void test('default params: pushes smaller and larger than maxSize agree with chunkLengths', () => {
  const data = randomBytes(48 * 1024 * 1024);
  const expected = chunkLengths(KEY, DEFAULT_CHUNKER_PARAMS, data);
  const chunks = chunkStream(DEFAULT_CHUNKER_PARAMS, data, splitter(7), 20 * 1024 * 1024);
  assert.deepEqual(
    chunks.map((c) => c.length),
    expected,
  );
});

void test('returned chunks are independent of the input buffer, which the caller may reuse', () => {
  const data = randomBytes(300_000);
  const expected = chunkLengths(KEY, SMALL, data);
  const chunker = new Chunker(KEY, SMALL);
  const read = Buffer.alloc(7_000);
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += read.length) {
    const n = data.copy(read, 0, off, off + read.length);
    chunks.push(...chunker.push(read.subarray(0, n)));
    read.fill(0xaa); // simulate the next read overwriting the buffer
  }
  chunks.push(...chunker.finish());
  assert.deepEqual(
    chunks.map((c) => c.length),
    expected,
  );
  assert.ok(Buffer.concat(chunks).equals(data));
});

void test('pushEach/finishEach visit the same chunks as push/finish, without copies', () => {
  const data = randomBytes(2 * 1024 * 1024);
  const expected = chunkLengths(KEY, SMALL, data);
  for (const readSize of [7_000, 150_000, 2 * 1024 * 1024]) {
    const chunker = new Chunker(KEY, SMALL);
    const read = Buffer.alloc(readSize);
    const seen: Buffer[] = [];
    let views = 0;
    const visit = (chunk: Buffer): void => {
      if (chunk.buffer === read.buffer) views++;
      seen.push(Buffer.from(chunk)); // a view is valid only during the call
    };
    for (let off = 0; off < data.length; off += read.length) {
      const n = data.copy(read, 0, off, off + read.length);
      chunker.pushEach(read.subarray(0, n), visit);
      read.fill(0xaa); // the next read overwrites the buffer
    }
    chunker.finishEach(visit);
    assert.deepEqual(
      seen.map((c) => c.length),
      expected,
      `reads of ${readSize}`,
    );
    assert.ok(Buffer.concat(seen).equals(data));
    if (readSize === data.length) assert.equal(views, expected.length - 1, 'views of the input');
  }
});

void test('finish() resets: the next stream chunks like a fresh chunker', () => {
  const data = randomBytes(100_000);
  const chunker = new Chunker(KEY, SMALL);
  chunker.push(randomBytes(5_000).subarray(1_234));
  chunker.finish();
  const chunks = [...chunker.push(data), ...chunker.finish()];
  assert.deepEqual(
    chunks.map((c) => c.length),
    chunkLengths(KEY, SMALL, data),
  );
});

void test('inserting one byte at the start of 64 MiB changes at most 3 chunks', () => {
  const data = randomBytes(64 * 1024 * 1024);
  const before = new Set(
    chunkStream(DEFAULT_CHUNKER_PARAMS, data, () => 8 * 1024 * 1024, 1).map(sha),
  );
  const shifted = Buffer.concat([Buffer.from([0x5a]), data]);
  const after = chunkStream(DEFAULT_CHUNKER_PARAMS, shifted, () => 8 * 1024 * 1024, 1).map(sha);
  const changed = after.filter((h) => !before.has(h)).length;
  assert.ok(changed <= 3, `${changed} chunks changed`);
});

void test('bad key or params are CONFIG_INVALID', () => {
  assert.throws(() => new Chunker(Buffer.alloc(16), SMALL), { code: 'CONFIG_INVALID' });
  assert.throws(() => new Chunker(KEY, { ...SMALL, avgSize: 6000 }), { code: 'CONFIG_INVALID' });
});

void test("pushEach's views stay intact until its settle, which follows the last visit", () => {
  const data = randomBytes(2 * 1024 * 1024);
  const expected = chunkLengths(KEY, SMALL, data);
  // Reads that end mid-chunk, so a chunk often begins in the chunker's own buffer, which the
  // rest of a read is kept in once settle returns.
  for (const readSize of [7_000, 20_011, 150_000]) {
    const chunker = new Chunker(KEY, SMALL);
    const read = Buffer.alloc(readSize);
    const seen: Buffer[] = [];
    let held: Buffer[] = [];
    const visit = (chunk: Buffer): void => void held.push(chunk);
    const settle = (): void => {
      seen.push(...held.map((view) => Buffer.from(view)));
      held = [];
    };
    for (let off = 0; off < data.length; off += read.length) {
      const n = data.copy(read, 0, off, off + read.length);
      chunker.pushEach(read.subarray(0, n), visit, settle);
      assert.equal(held.length, 0, 'settle ran after the last visit');
      read.fill(0xaa);
    }
    chunker.finishEach(visit, settle);
    assert.deepEqual(
      seen.map((c) => c.length),
      expected,
      `reads of ${readSize}`,
    );
    assert.ok(Buffer.concat(seen).equals(data), `reads of ${readSize}`);
  }
});
