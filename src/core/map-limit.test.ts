import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimit } from './map-limit.js';

void describe('mapLimit', () => {
  void it('keeps order and at most `limit` calls in flight', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });

  void it('starts no call after the first rejection', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (n) => {
        started.push(n);
        await new Promise((resolve) => setImmediate(resolve));
        if (n === 1) throw new Error('item 1');
      }),
      /item 1/,
    );
    // Let the other loop finish the call it had in flight.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started.sort(), [0, 1, 2], 'item 2 was in flight; nothing after the failure');
  });
});
