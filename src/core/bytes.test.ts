import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownBytes } from './bytes.js';

void test('ownBytes copies a pooled slice into a buffer of its own', () => {
  // Buffer.from of a short string is a slice of Node's shared pool.
  const pooled = Buffer.from('/restored/dir');
  assert.ok(pooled.buffer.byteLength > pooled.length, 'the input is a slice of a larger buffer');
  const own = ownBytes(pooled);
  assert.deepEqual(own, pooled);
  assert.equal(own.byteOffset, 0);
  assert.equal(own.buffer.byteLength, pooled.length);
  own[0] = 0x78;
  assert.equal(pooled[0], 0x2f, 'a copy, not a view');
});
