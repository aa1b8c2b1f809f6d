import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { compressBlob, decompressBlob, parseCompressionMode } from './index.js';

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

void test('parseCompressionMode accepts off/auto/max only', () => {
  assert.equal(parseCompressionMode('off'), 'off');
  assert.equal(parseCompressionMode('auto'), 'auto');
  assert.equal(parseCompressionMode('max'), 'max');
  assert.throws(() => parseCompressionMode('MAX'), { code: 'USAGE' });
  assert.throws(() => parseCompressionMode(''), { code: 'USAGE' });
});
