import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../memory/memory-store.js';
import { describeObjectStoreConformance, testObject } from '../testing/conformance.js';
import { DeferredStore } from './deferred-store.js';

describeObjectStoreConformance('DeferredStore over a MemoryStore', () =>
  Promise.resolve({
    store: new DeferredStore({
      location: 'memory:deferred',
      retention: false,
      load: () => Promise.resolve(new MemoryStore()),
    }),
    cleanup: () => Promise.resolve(),
  }),
);

void describe('DeferredStore', () => {
  void it('loads the inner store once, on the first call, never just for close', async () => {
    let loads = 0;
    const inner = new MemoryStore();
    const deferred = () =>
      new DeferredStore({
        location: 'memory:x',
        retention: false,
        load: () => {
          loads++;
          return Promise.resolve(inner);
        },
      });
    const unused = deferred();
    await unused.close();
    assert.equal(loads, 0);
    const store = deferred();
    assert.equal(store.location, 'memory:x');
    assert.equal(store.retention, undefined);
    const obj = testObject(3);
    await Promise.all([store.put('pack', obj.name, obj.data), store.stat('pack', obj.name)]);
    assert.ok((await store.get('pack', obj.name)).equals(obj.data));
    assert.equal(loads, 1);
    await store.close();
  });

  void it('rejects every call with the loading failure', async () => {
    const store = new DeferredStore({
      location: 's3:nowhere',
      retention: true,
      load: () => Promise.reject(new Error('cannot load the client library')),
    });
    await assert.rejects(store.stat('config', 'config'), /cannot load the client library/);
    await assert.rejects(store.retention!.prepare(), /cannot load the client library/);
    await store.close();
  });
});
