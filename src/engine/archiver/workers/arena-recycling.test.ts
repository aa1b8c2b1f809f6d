/**
 * Arenas going back to their worker: ArenaRecycler (main thread) and ArenaPool (worker) over a
 * real MessageChannel, in one thread — the port delivers transferred buffers the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { ArenaPool } from './arena-pool.js';
import { ArenaRecycler } from './arena-recycler.js';

const ARENA = 4096;

function pair(keep = 4): { pool: ArenaPool; recycler: ArenaRecycler; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const recycler = new ArenaRecycler(port1, ARENA);
  const pool = new ArenaPool(port2, ARENA, keep);
  return { pool, recycler, close: () => (recycler.close(), port2.close()) };
}

void test('an arena goes back only when its report and every blob kept from it let go', () => {
  const { pool, recycler, close } = pair();
  try {
    const arena = pool.take();
    assert.equal(arena.length, ARENA);
    arena.fill(7);
    const memory = arena.buffer as ArrayBuffer;
    assert.equal(recycler.adopt(memory), true);
    const kept = Buffer.from(memory, 100, 50);
    recycler.hold(memory); // a blob the writer keeps
    recycler.hold(memory); // a blob the writer drops (a duplicate)
    recycler.drop(memory);
    recycler.drop(memory); // the report is handled
    assert.equal(memory.byteLength, ARENA, 'still held by the kept blob: not sent back');
    recycler.release(kept); // its pack is stored
    assert.equal(memory.byteLength, 0, 'sent back: detached on this side');
    const again = pool.take();
    assert.equal(again.length, ARENA);
    assert.ok(
      again.every((b) => b === 7),
      'the same memory came back',
    );
    assert.notEqual(pool.take().buffer, again.buffer, 'none left: a new one');
  } finally {
    close();
  }
});

void test('buffers that are not whole arenas stay with the collector', () => {
  const { recycler, close } = pair();
  try {
    const copy = new ArrayBuffer(ARENA / 2);
    assert.equal(recycler.adopt(copy), false);
    recycler.drop(copy); // not adopted: ignored
    assert.equal(copy.byteLength, ARENA / 2);
  } finally {
    close();
  }
});

void test('the pool keeps at most its bound of spares', () => {
  const { pool, recycler, close } = pair(2);
  try {
    const arenas = [pool.take(), pool.take(), pool.take()];
    arenas.forEach((arena, i) => arena.fill(i + 1));
    for (const arena of arenas) {
      const memory = arena.buffer as ArrayBuffer;
      recycler.adopt(memory);
      recycler.drop(memory);
    }
    // The first two back are kept (the last kept is taken first), the third is dropped.
    assert.ok(pool.take().every((b) => b === 2));
    assert.ok(pool.take().every((b) => b === 1));
    assert.equal(pool.take().length, ARENA);
  } finally {
    close();
  }
});

void test('after close nothing is sent back', () => {
  const { pool, recycler, close } = pair();
  const arena = pool.take().buffer as ArrayBuffer;
  assert.equal(recycler.adopt(arena), true);
  close();
  recycler.drop(arena);
  assert.equal(arena.byteLength, ARENA);
  assert.equal(recycler.adopt(new ArrayBuffer(ARENA)), false);
});
