import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../memory/memory-store.js';
import { collect, rejectsWithCode, testObject } from '../testing/conformance.js';
import { ReadOnlyStore } from './read-only-store.js';

void describe('ReadOnlyStore', () => {
  void it('reads through and refuses every write with STORAGE_FAILED', async () => {
    const memory = new MemoryStore();
    const obj = testObject(1);
    await memory.put('snapshot', obj.name, obj.data);
    const store = new ReadOnlyStore(memory);
    assert.equal(store.location, memory.location);

    assert.ok((await store.get('snapshot', obj.name)).equals(obj.data));
    assert.deepEqual(await store.stat('snapshot', obj.name), { name: obj.name, size: 1000 });
    assert.deepEqual(await collect(store.list('snapshot')), [{ name: obj.name, size: 1000 }]);

    const other = testObject(2);
    for (const write of [
      store.put('snapshot', other.name, other.data),
      store.delete('snapshot', obj.name),
      store.create(),
    ]) {
      const err = await rejectsWithCode(write, 'STORAGE_FAILED');
      assert.match(err.message, /repository opened read-only/);
    }
    assert.deepEqual(await collect(memory.list('snapshot')), [{ name: obj.name, size: 1000 }]);
  });
});
