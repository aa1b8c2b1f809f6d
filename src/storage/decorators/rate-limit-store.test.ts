import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startRestServer } from '../../testing/rest-server.js';
import { MemoryStore } from '../memory/memory-store.js';
import { RestStore } from '../rest/rest-store.js';
import { describeObjectStoreConformance, testObject } from '../testing/conformance.js';
import { ByteRate, RateLimitStore } from './rate-limit-store.js';

describeObjectStoreConformance('RateLimitStore', () =>
  Promise.resolve({
    store: new RateLimitStore(new MemoryStore(), {
      uploadBytesPerSecond: 1024 * 1024 * 1024,
      downloadBytesPerSecond: 1024 * 1024 * 1024,
    }),
    cleanup: () => Promise.resolve(),
  }),
);

/** A fake clock whose sleeps advance it. */
function fakeTime() {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    slept,
  };
}

void describe('ByteRate', () => {
  void it('lets a second of budget through, then waits for each further byte', async () => {
    const t = fakeTime();
    const rate = new ByteRate(1000, t.now, t.sleep);
    await rate.take(1000);
    assert.deepEqual(t.slept, []);
    await rate.take(500);
    assert.deepEqual(t.slept, [500]);
    await rate.take(2000);
    assert.deepEqual(t.slept, [500, 2000]);
  });

  void it('refills with time, up to one second of budget', async () => {
    const t = fakeTime();
    const rate = new ByteRate(1000, t.now, t.sleep);
    await rate.take(1000);
    await t.sleep(10_000);
    await rate.take(1000);
    await rate.take(100);
    assert.deepEqual(t.slept, [10_000, 100]);
  });
});

void describe('RateLimitStore', () => {
  void it('charges uploads and downloads to their own budgets', async () => {
    const t = fakeTime();
    const store = new RateLimitStore(new MemoryStore(), {
      uploadBytesPerSecond: 1000,
      downloadBytesPerSecond: 500,
      now: t.now,
      sleep: t.sleep,
    });
    const obj = testObject(1, 2000);
    await store.put('pack', obj.name, obj.data);
    assert.deepEqual(t.slept, [1000]);
    await store.get('pack', obj.name, { offset: 0, length: 1000 });
    assert.deepEqual(t.slept, [1000, 1000]);
    await store.get('pack', obj.name);
    assert.deepEqual(t.slept, [1000, 1000, 4000]);
    await store.stat('pack', obj.name);
    assert.equal(t.slept.length, 3);
  });

  void it('charges an object written to a sink by a streaming store for what reached it', async () => {
    const server = await startRestServer({ verifyNames: false });
    const t = fakeTime();
    const inner = new RestStore(server.location('rate-sink').slice('rest:'.length));
    const store = new RateLimitStore(inner, {
      downloadBytesPerSecond: 500,
      now: t.now,
      sleep: t.sleep,
    });
    try {
      await store.create();
      const obj = testObject(2, 300_000);
      await store.put('pack', obj.name, obj.data);
      let received = 0;
      const sink = {
        write: (chunk: Uint8Array): Promise<void> => {
          received += chunk.length;
          return Promise.resolve();
        },
      };
      const back = await store.get('pack', obj.name, undefined, { sink });
      assert.equal(back.length, 0, 'streamed to the sink');
      assert.equal(received, obj.data.length, 'through the decorator');
      // 300,000 bytes at 500 B/s, the first second's budget free: 599 s.
      assert.deepEqual(t.slept, [599_000]);
    } finally {
      await inner.close();
      await server.stop();
    }
  });
});
