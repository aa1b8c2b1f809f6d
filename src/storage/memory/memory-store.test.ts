import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeObjectStoreConformance, testObject } from '../testing/conformance.js';
import { MemoryStore } from './memory-store.js';

describeObjectStoreConformance('MemoryStore', () =>
  Promise.resolve({ store: new MemoryStore(), cleanup: () => Promise.resolve() }),
);

void describe('MemoryStore', () => {
  void it('shares contents between stores given the same objects map', async () => {
    const objects = new Map<string, Buffer>();
    const a = new MemoryStore({ objects });
    const b = new MemoryStore({ objects, location: 'memory:b' });
    const obj = testObject(1);
    await a.put('snapshot', obj.name, obj.data);
    await a.close();
    assert.ok((await b.get('snapshot', obj.name)).equals(obj.data));
    assert.equal(b.location, 'memory:b');
  });
});
