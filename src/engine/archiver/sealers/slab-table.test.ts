/**
 * SlabTable: which slabs go back to their sealer, and when. (A sealer's side, sealing into a
 * freed slab again and keeping at most 16, is the native sealer's: file-sealer.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlabTable } from './slab-table.js';

function table(): { table: SlabTable; freed: number[] } {
  const freed: number[] = [];
  return { table: new SlabTable((id) => freed.push(id)), freed };
}

void test('a slab is freed once retired with no blob held, and may begin again', () => {
  const { table: t, freed } = table();
  const memory = new ArrayBuffer(4096);
  Buffer.from(memory).write('sealed bytes', 0);
  t.add({ id: 1, memory });
  const kept = t.hold(1, 0, 12);
  assert.equal(kept.toString(), 'sealed bytes', 'read in place, not copied');
  assert.equal(kept.buffer, memory);
  t.hold(1, 12, 4);
  t.drop(1); // a duplicate the writer did not keep
  t.retire(1);
  assert.deepEqual(freed, [], 'a kept blob still holds the slab');
  t.release(kept); // its pack is stored
  assert.deepEqual(freed, [1]);
  t.add({ id: 1, memory }); // the sealer seals into it again
  t.retire(1);
  assert.deepEqual(freed, [1, 1]);
});

void test('a slab the sealer still fills is not freed, even with nothing held', () => {
  const { table: t, freed } = table();
  t.add({ id: 1, memory: new ArrayBuffer(64) });
  t.release(t.hold(1, 0, 10));
  assert.deepEqual(freed, []);
});

void test('a report naming an unknown slab is refused; after close nothing is handed back', () => {
  const { table: t, freed } = table();
  assert.throws(() => t.hold(99, 0, 1), /unknown slab 99/);
  t.add({ id: 2, memory: new ArrayBuffer(64) });
  const kept = t.hold(2, 0, 1);
  t.retire(2);
  t.close();
  t.release(kept);
  assert.deepEqual(freed, []);
});
