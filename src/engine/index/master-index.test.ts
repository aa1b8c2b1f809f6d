import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { BlobId, PackId } from '../../core/index.js';
import type { PackEntry } from '../format/index.js';
import { MasterIndex } from './master-index.js';

const idOf = (n: number): BlobId => createHash('sha256').update(String(n)).digest('hex') as BlobId;

void test('lookup returns what was added; first location wins for duplicates', () => {
  const index = new MasterIndex();
  const e: PackEntry = {
    type: 'tree',
    id: idOf(1),
    offset: 10,
    length: 20,
    rawLength: 300,
    compression: 1,
  };
  index.addPack('a'.repeat(64) as PackId, [e]);
  index.addPack('b'.repeat(64) as PackId, [{ ...e, offset: 99 }]);
  assert.deepEqual(index.lookup(idOf(1)), {
    packId: 'a'.repeat(64),
    type: 'tree',
    offset: 10,
    length: 20,
    rawLength: 300,
    compression: 1,
  });
  assert.equal(index.has(idOf(2)), false);
  assert.equal(index.size, 1);
  assert.equal(index.packCount, 2);
});

void test('one million blobs: all found, none invented, memory per blob within the stated budget', () => {
  const index = new MasterIndex();
  const n = 1_000_000;
  const batch: PackEntry[] = [];
  for (let i = 0; i < n; i++) {
    batch.push({
      type: 'data',
      id: idOf(i),
      offset: i,
      length: 1000,
      rawLength: i % 1_000_000,
      compression: 0,
    });
    if (batch.length === 10_000) {
      index.addPack(idOf(-i) as unknown as PackId, batch.splice(0));
    }
  }
  assert.equal(index.size, n);
  for (let i = 0; i < n; i += 997) assert.equal(index.lookup(idOf(i))?.offset, i);
  for (let i = n; i < n + 1000; i++) assert.equal(index.has(idOf(i)), false);
  const perBlob = index.memoryBytes() / n;
  // Spec bound: 32 B entry + ≤ 10.7 B slots + ≤ 16 B spare capacity = 59 B.
  assert.ok(perBlob <= 59, `memory per blob ${perBlob.toFixed(1)} B`);
});
