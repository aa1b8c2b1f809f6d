import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { gearTableFromKey } from './index.js';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

void test('gear table follows the spec derivation (HMAC-SHA256 blocks, little-endian entries)', () => {
  const blocks: Buffer[] = [];
  for (let j = 0; j < 32; j++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(j);
    blocks.push(
      createHmac('sha256', KEY).update('holdfast gear table v1').update(counter).digest(),
    );
  }
  const bytes = Buffer.concat(blocks);
  const table = gearTableFromKey(KEY);
  assert.equal(table.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(table[i]! >>> 0, bytes.readUInt32LE(i * 4));
});

void test('vector: gear table of key 0x00..0x1f', () => {
  const table = new Uint32Array(gearTableFromKey(KEY).buffer);
  assert.deepEqual([...table.slice(0, 4)], [0x6d1eaa0e, 0xb22884b4, 0xb05fad3b, 0x0b3e2821]);
  const digest = createHash('sha256').update(new Uint8Array(table.buffer)).digest('hex');
  assert.equal(digest, '4b559493ab38b4bd1c946f35f15950e6dbfde5c22c6712722d38ad43de57480b');
});

void test('a key that is not 32 bytes is rejected', () => {
  assert.throws(() => gearTableFromKey(Buffer.alloc(31)), { code: 'CONFIG_INVALID' });
});
