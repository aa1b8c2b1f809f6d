import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HoldfastError, type ErrorCode } from '../../core/index.js';
import { MemoryStore } from '../memory/memory-store.js';
import type { ObjectStore } from '../object-store.js';
import {
  collect,
  describeObjectStoreConformance,
  rejectsWithCode,
  testObject,
} from '../testing/conformance.js';
import { FaultyStore, type FaultRule } from '../testing/faulty-store.js';
import { fullJitterDelay } from './backoff.js';
import { RetryingStore, type RetryEvent, type RetryOptions } from './retrying-store.js';
import { markTransient } from './transient-error.js';

// Faults on every operation but put: a put retried after a failure is ambiguous by design, which
// would let two same-size contenders both "win" the conformance suite's race (see the put tests).
let injected = 0;
describeObjectStoreConformance('RetryingStore over a FaultyStore', () => {
  const rules: FaultRule[] = [
    ...(['create', 'get', 'stat', 'delete'] as const).map((operation) => ({
      operation,
      probability: 0.2,
    })),
    { operation: 'list', probability: 0.2, afterItems: 1 },
  ];
  const faulty = new FaultyStore(new MemoryStore(), { rules, seed: 42 });
  const cleanup = () => {
    injected += faulty.injected;
    return Promise.resolve();
  };
  return Promise.resolve({ store: retrying(faulty), cleanup });
});

/** A RetryingStore that never really waits and records what it would have waited. */
function retrying(inner: ObjectStore, options: RetryOptions = {}) {
  const delays: number[] = [];
  const events: RetryEvent[] = [];
  const store = new RetryingStore(inner, {
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    onRetry: (event) => events.push(event),
    ...options,
  });
  return Object.assign(store, { delays, events });
}

void describe('RetryingStore', () => {
  void it('really had faults to retry in the conformance run above', () => {
    assert.ok(injected > 10, `${injected} faults injected`);
  });

  void it('retries transient failures with full-jitter backoff and reports each retry', async () => {
    const faulty = new FaultyStore(new MemoryStore(), {
      rules: [{ operation: 'get', calls: [1, 2, 3] }],
    });
    const store = retrying(faulty, { random: () => 0.5 });
    const obj = testObject(1);
    await store.put('pack', obj.name, obj.data);
    assert.ok((await store.get('pack', obj.name)).equals(obj.data));
    assert.deepEqual(store.delays, [100, 200, 400]);
    assert.deepEqual(
      store.events.map((e) => [e.operation, e.kind, e.name, e.attempt, e.maxAttempts, e.delayMs]),
      [1, 2, 3].map((attempt, i) => ['get', 'pack', obj.name, attempt, 8, store.delays[i]]),
    );
  });

  void it('caps the backoff window at maxDelayMs', () => {
    const policy = { baseDelayMs: 200, maxDelayMs: 10_000 };
    assert.equal(
      fullJitterDelay(policy, 1, () => 0.999),
      199,
    );
    assert.equal(
      fullJitterDelay(policy, 6, () => 0.5),
      3200,
    );
    assert.equal(
      fullJitterDelay(policy, 30, () => 0.999),
      9990,
    );
    assert.equal(
      fullJitterDelay(policy, 30, () => 0),
      0,
    );
  });

  void it('gives up after maxAttempts with STORAGE_UNAVAILABLE carrying the last error', async () => {
    const faulty = new FaultyStore(new MemoryStore(), {
      rules: [{ operation: 'stat', probability: 1 }],
    });
    const store = retrying(faulty, { maxAttempts: 3 });
    const err = await rejectsWithCode(
      store.stat('index', testObject(2).name),
      'STORAGE_UNAVAILABLE',
    );
    // Names the storage, the request and the attempts.
    const expected = `storage ${faulty.location} is unavailable: stat index ${testObject(2).name} failed after 3 attempts: `;
    assert.ok(err.message.startsWith(expected), err.message);
    assert.ok(err instanceof HoldfastError && err.hint, 'says what to do');
    assert.ok(err.cause instanceof HoldfastError);
    assert.equal(faulty.calls('stat'), 3);
    assert.equal(store.delays.length, 2);
  });

  void it('defaults to 8 attempts', async () => {
    const faulty = new FaultyStore(new MemoryStore(), {
      rules: [{ operation: 'delete', probability: 1 }],
    });
    await rejectsWithCode(
      retrying(faulty).delete('lock', testObject(3).name),
      'STORAGE_UNAVAILABLE',
    );
    assert.equal(faulty.calls('delete'), 8);
  });

  void it('retries errors flagged transient', async () => {
    const flagged = () => markTransient(new Error('ECONNRESET'));
    const faulty = new FaultyStore(new MemoryStore(), {
      rules: [{ operation: 'create', calls: [1], error: flagged }],
    });
    await retrying(faulty).create();
    assert.equal(faulty.calls('create'), 2);
  });

  void it('never retries answers that retrying cannot change, flagged or not', async () => {
    for (const code of [
      'OBJECT_EXISTS',
      'NOT_FOUND',
      'STORAGE_FAILED',
      'INTERRUPTED',
    ] as ErrorCode[]) {
      const error = () => markTransient(new HoldfastError(code, 'no'));
      const faulty = new FaultyStore(new MemoryStore(), {
        rules: [{ operation: 'get', probability: 1, error }],
      });
      const store = retrying(faulty);
      await rejectsWithCode(store.get('pack', testObject(4).name), code);
      assert.equal(faulty.calls('get'), 1, code);
      assert.equal(store.events.length, 0, code);
    }
  });

  void it('does not retry unflagged errors', async () => {
    for (const error of [() => new Error('bug'), () => new HoldfastError('FAILURE', 'bug')]) {
      const faulty = new FaultyStore(new MemoryStore(), {
        rules: [{ operation: 'get', probability: 1, error }],
      });
      await assert.rejects(retrying(faulty).get('pack', testObject(4).name), /bug/);
      assert.equal(faulty.calls('get'), 1);
    }
  });

  void it('treats OBJECT_EXISTS after an ambiguous put as success when the size matches', async () => {
    const faulty = new FaultyStore(new MemoryStore(), {
      rules: [{ operation: 'put', calls: [1], when: 'after' }],
    });
    const store = retrying(faulty);
    const obj = testObject(5);
    await store.put('pack', obj.name, obj.data);
    assert.equal(faulty.calls('put'), 2);
    assert.ok((await store.get('pack', obj.name)).equals(obj.data));
  });

  void it('keeps OBJECT_EXISTS after an ambiguous put when the size differs', async () => {
    const memory = new MemoryStore();
    const faulty = new FaultyStore(memory, { rules: [{ operation: 'put', calls: [1] }] });
    const obj = testObject(6, 100);
    const store = retrying(faulty, {
      // Another writer stores a different object under the name while we back off.
      sleep: () => memory.put('pack', obj.name, Buffer.alloc(99)),
    });
    await rejectsWithCode(store.put('pack', obj.name, obj.data), 'OBJECT_EXISTS');
  });

  void it('does not excuse OBJECT_EXISTS on a first, unambiguous attempt', async () => {
    const store = retrying(new MemoryStore());
    const obj = testObject(7);
    await store.put('pack', obj.name, obj.data);
    await rejectsWithCode(store.put('pack', obj.name, obj.data), 'OBJECT_EXISTS');
  });

  void it('restarts a failed listing without yielding any object twice', async () => {
    const memory = new MemoryStore();
    const names = Array.from({ length: 5 }, (_, i) => testObject(10 + i).name);
    for (const name of names) await memory.put('snapshot', name, Buffer.from(name));
    const faulty = new FaultyStore(memory, {
      rules: [{ operation: 'list', calls: [1, 2], afterItems: 3 }],
    });
    const store = retrying(faulty);
    const listed = (await collect(store.list('snapshot'))).map((i) => i.name);
    assert.deepEqual([...listed].sort(), [...names].sort());
    assert.equal(faulty.calls('list'), 3);
  });

  void it('stops waiting with INTERRUPTED when aborted during the backoff', async () => {
    const faulty = new FaultyStore(new MemoryStore(), {
      rules: [{ operation: 'stat', probability: 1 }],
    });
    const store = new RetryingStore(faulty, { baseDelayMs: 60_000, random: () => 0.99 });
    const controller = new AbortController();
    const stat = store.stat('pack', testObject(8).name, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await rejectsWithCode(stat, 'INTERRUPTED');
    assert.equal(faulty.calls('stat'), 1);
  });
});
