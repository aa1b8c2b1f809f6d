/**
 * Slabs going back to their worker: SlabTable (main thread) and SlabPool (worker) over a real
 * MessageChannel, in one thread — the port delivers the freed ids the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { SlabPool, type Slab } from './slab-pool.js';
import { SlabTable } from './slab-table.js';

const SLAB = 4096;

function pair(keep = 4): { pool: SlabPool; table: SlabTable; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const table = new SlabTable(port1);
  const pool = new SlabPool(port2, SLAB, keep);
  return { pool, table, close: () => (table.close(), port2.close()) };
}

/** What a report tells the main thread when the worker starts sealing into `slab`. */
function begin(table: SlabTable, slab: Slab): void {
  table.add({ id: slab.id, memory: slab.memory.buffer as SharedArrayBuffer });
}

void test('a slab is freed once retired with no blob held, and sealed into again', () => {
  const { pool, table, close } = pair();
  try {
    const a = pool.take(100);
    assert.equal(a.memory.length, SLAB);
    begin(table, a);
    a.memory.write('sealed bytes', 0);
    const kept = table.hold(a.id, 0, 12);
    assert.equal(kept.toString(), 'sealed bytes', 'read in place, not copied');
    table.hold(a.id, 12, 4);
    table.drop(a.id); // a duplicate the writer did not keep
    table.retire(a.id);
    const b = pool.take(100);
    assert.notEqual(b.id, a.id, 'a kept blob still holds the slab');
    table.release(kept); // its pack is stored
    const again = pool.take(100);
    assert.equal(again.id, a.id);
    assert.equal(again.memory.buffer, a.memory.buffer, 'the same memory');
  } finally {
    close();
  }
});

void test('a slab the worker still fills is not freed, even with nothing held', () => {
  const { pool, table, close } = pair();
  try {
    const a = pool.take(100);
    begin(table, a);
    table.release(table.hold(a.id, 0, 10));
    assert.notEqual(pool.take(100).id, a.id);
  } finally {
    close();
  }
});

void test('oversized slabs and slabs beyond the bound are left to the collector', () => {
  const { pool, table, close } = pair(1);
  try {
    const big = pool.take(SLAB * 2);
    assert.equal(big.memory.length, SLAB * 2);
    const x = pool.take(10);
    const y = pool.take(10);
    for (const slab of [big, x, y]) {
      begin(table, slab);
      table.retire(slab.id);
    }
    const first = pool.take(10);
    assert.equal(first.id, x.id, 'one standard slab kept');
    const second = pool.take(10);
    assert.ok(![big.id, x.id, y.id].includes(second.id), 'a new one');
    assert.equal(second.memory.length, SLAB);
  } finally {
    close();
  }
});

void test('a report naming an unknown slab is refused; after close nothing is sent', () => {
  const { pool, table, close } = pair();
  assert.throws(() => table.hold(99, 0, 1), /unknown slab 99/);
  const a = pool.take(10);
  begin(table, a);
  const kept = table.hold(a.id, 0, 1);
  table.retire(a.id);
  close();
  table.release(kept);
  assert.notEqual(pool.take(10).id, a.id);
});
