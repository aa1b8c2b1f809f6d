import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../memory/memory-store.js';
import { collect, rejectsWithCode, testObject } from './conformance.js';
import { FaultyStore } from './faulty-store.js';

void describe('FaultyStore', () => {
  void it('fails the chosen calls of an operation before reaching the inner store', async () => {
    const memory = new MemoryStore();
    const store = new FaultyStore(memory, { rules: [{ operation: 'put', calls: [2] }] });
    const [a, b, c] = [testObject(1), testObject(2), testObject(3)];
    await store.put('pack', a.name, a.data);
    await rejectsWithCode(store.put('pack', b.name, b.data), 'STORAGE_UNAVAILABLE');
    await store.put('pack', c.name, c.data);
    assert.equal(await memory.stat('pack', b.name), undefined);
    assert.equal(store.calls('put'), 3);
    assert.equal(store.injected, 1);
  });

  void it("fails 'after' the inner call succeeded, like a timeout after commit", async () => {
    const memory = new MemoryStore();
    const store = new FaultyStore(memory, {
      rules: [{ operation: 'put', calls: [1], when: 'after' }],
    });
    const obj = testObject(4);
    await rejectsWithCode(store.put('pack', obj.name, obj.data), 'STORAGE_UNAVAILABLE');
    assert.ok((await memory.get('pack', obj.name)).equals(obj.data));
  });

  void it('draws random failures reproducibly from the seed', async () => {
    const pattern = async (seed: number) => {
      const store = new FaultyStore(new MemoryStore(), {
        seed,
        rules: [{ operation: 'stat', probability: 0.5 }],
      });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(
          await store.stat('pack', testObject(5).name).then(
            () => true,
            () => false,
          ),
        );
      }
      return outcomes;
    };
    const first = await pattern(7);
    assert.deepEqual(await pattern(7), first);
    assert.notDeepEqual(await pattern(8), first);
    const failures = first.filter((ok) => !ok).length;
    assert.ok(failures > 5 && failures < 35, `${failures} of 40`);
  });

  void it('fails a listing after a number of objects, and uses a custom error', async () => {
    const memory = new MemoryStore();
    for (let i = 0; i < 4; i++) await memory.put('index', testObject(10 + i).name, Buffer.alloc(1));
    const error = () => new Error('boom');
    const store = new FaultyStore(memory, {
      rules: [{ operation: 'list', calls: [1], afterItems: 2, error }],
    });
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const info of store.list('index')) seen.push(info.name);
    }, /boom/);
    assert.equal(seen.length, 2);
    assert.equal((await collect(store.list('index'))).length, 4);
  });

  void it('adds latency to every call through the injected sleep', async () => {
    const waits: number[] = [];
    const sleep = (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    };
    const store = new FaultyStore(new MemoryStore(), { latencyMs: 25, sleep });
    await store.create();
    await store.stat('pack', testObject(6).name);
    await collect(store.list('pack'));
    assert.deepEqual(waits, [25, 25, 25]);
  });
});
