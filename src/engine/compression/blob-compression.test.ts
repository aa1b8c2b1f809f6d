import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { compressBlob, decompressBlob, decompressBlobEach, parseCompressionMode } from './index.js';

const text = Buffer.from('holdfast keeps every backup restorable. '.repeat(30_000));

void test('round trip in auto and max, max no larger than auto', () => {
  const auto = compressBlob(text, 'auto');
  const max = compressBlob(text, 'max');
  assert.ok(auto !== undefined && max !== undefined);
  assert.ok(auto.length < text.length && max.length <= auto.length);
  assert.ok(decompressBlob(auto, text.length).equals(text));
  assert.ok(decompressBlob(max, text.length).equals(text));
});

void test('results are independent buffers (the scratch buffer is reused)', () => {
  const a = compressBlob(text, 'auto')!;
  const copy = Buffer.from(a);
  compressBlob(Buffer.from('x'.repeat(100_000)), 'auto');
  assert.ok(a.equals(copy));
});

void test("'off', empty and incompressible data return undefined (store raw)", () => {
  assert.equal(compressBlob(text, 'off'), undefined);
  assert.equal(compressBlob(Buffer.alloc(0), 'auto'), undefined);
  assert.equal(compressBlob(randomBytes(1 << 20), 'auto'), undefined);
  assert.equal(compressBlob(randomBytes(64), 'max'), undefined);
});

void test('auto samples large blobs: compressible anywhere the samples reach is compressed', () => {
  const size = 1 << 20;
  const step = Math.floor((size - 4096) / 7);
  // Random bytes with text from the middle onwards, and random bytes with text only where the
  // fourth of eight evenly spaced samples lies.
  const halves = Buffer.concat([randomBytes(size / 2), text.subarray(0, size / 2)]);
  const island = randomBytes(size);
  text.copy(island, 3 * step, 0, 4096);
  for (const data of [halves, island]) {
    const packed = compressBlob(data, 'auto');
    assert.ok(packed !== undefined && packed.length < data.length);
    assert.ok(decompressBlob(packed, data.length).equals(data));
  }
});

void test('auto stores raw a large blob whose samples do not compress; max still tries it', () => {
  // 64 KiB of text between two samples of otherwise random bytes: the samples miss it.
  const size = 1 << 20;
  const step = Math.floor((size - 4096) / 7);
  const data = randomBytes(size);
  text.copy(data, 4096 + 1024, 0, step - 4096 - 2048);
  assert.equal(compressBlob(data, 'auto'), undefined);
  const max = compressBlob(data, 'max');
  assert.ok(max !== undefined && max.length < data.length);
  // Below the sampling size, auto tries the whole blob.
  const small = randomBytes(100_000);
  text.copy(small, 50_000, 0, 20_000);
  assert.ok((compressBlob(small, 'auto')?.length ?? Infinity) < small.length);
});

void test('corrupt input or a wrong recorded length is INTEGRITY', () => {
  const packed = compressBlob(text, 'auto')!;
  const flipped = Buffer.from(packed);
  flipped[flipped.length >> 1]! ^= 0xff;
  const cases: [Buffer, number][] = [
    [randomBytes(100), 1000], // not zstd
    [packed.subarray(0, packed.length - 3), text.length], // truncated
    [Buffer.concat([packed, Buffer.from([1, 2, 3])]), text.length], // trailing garbage
    [packed, text.length - 1], // longer than recorded
    [packed, text.length + 1], // shorter than recorded
    [Buffer.alloc(0), 0],
    [packed, -1],
    [packed, 1.5],
  ];
  for (const [data, length] of cases) {
    assert.throws(() => decompressBlob(data, length), { code: 'INTEGRITY' }, `length ${length}`);
  }
  // A flipped byte may still decode (zstd has no checksum here; the AEAD tag catches it), but it
  // must never return a wrong-length buffer.
  try {
    assert.equal(decompressBlob(flipped, text.length).length, text.length);
  } catch (err) {
    assert.equal((err as { code?: unknown }).code, 'INTEGRITY');
  }
});

/** decompressBlobEach's pieces joined, or what it threw. */
function eachJoined(data: Buffer, length: number, pieceSize: number): Buffer {
  const pieces: Buffer[] = [];
  const piece = Buffer.alloc(pieceSize);
  decompressBlobEach(data, length, piece, (bytes) => {
    assert.equal(bytes.buffer, piece.buffer, 'a view of the piece buffer');
    pieces.push(Buffer.from(bytes));
  });
  return Buffer.concat(pieces);
}

void test('decompressBlobEach gives the bytes in pieces and accepts what decompressBlob accepts', () => {
  const packed = compressBlob(text, 'auto')!;
  for (const pieceSize of [1000, 65_536, text.length + 10])
    assert.deepEqual(eachJoined(packed, text.length, pieceSize), text, `pieces of ${pieceSize}`);
  // Two frames back to back decode as one blob in both.
  const second = compressBlob(Buffer.from('and a second frame. '.repeat(500)), 'auto')!;
  const both = Buffer.concat([packed, second]);
  const whole = decompressBlob(both, text.length + 10_000);
  assert.deepEqual(eachJoined(both, whole.length, 4096), whole);
  const flipped = Buffer.from(packed);
  flipped[flipped.length >> 1]! ^= 0xff;
  const refused: [Buffer, number][] = [
    [randomBytes(100), 1000],
    [packed.subarray(0, packed.length - 3), text.length],
    [Buffer.concat([packed, Buffer.from([1, 2, 3])]), text.length],
    [packed, text.length - 1],
    [packed, text.length + 1],
    [Buffer.alloc(0), 0],
  ];
  for (const [data, length] of refused) {
    assert.throws(() => decompressBlob(data, length), { code: 'INTEGRITY' });
    assert.throws(() => eachJoined(data, length, 4096), { code: 'INTEGRITY' }, `length ${length}`);
  }
  // The same verdict as decompressBlob on a flipped byte, and a stream left usable after it.
  let verdict: string;
  try {
    verdict = decompressBlob(flipped, text.length).toString('hex');
  } catch (err) {
    verdict = String((err as { code?: unknown }).code);
  }
  try {
    assert.equal(eachJoined(flipped, text.length, 4096).toString('hex'), verdict);
  } catch (err) {
    assert.equal((err as { code?: unknown }).code, verdict);
  }
  assert.deepEqual(eachJoined(packed, text.length, 4096), text);
});

void test('parseCompressionMode accepts off/auto/max only', () => {
  assert.equal(parseCompressionMode('off'), 'off');
  assert.equal(parseCompressionMode('auto'), 'auto');
  assert.equal(parseCompressionMode('max'), 'max');
  assert.throws(() => parseCompressionMode('MAX'), { code: 'USAGE' });
  assert.throws(() => parseCompressionMode(''), { code: 'USAGE' });
});
