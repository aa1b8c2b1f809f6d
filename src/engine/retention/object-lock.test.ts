import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HoldfastError, isHoldfastError, silentLogger, type Clock } from '../../core/index.js';
import {
  MemoryStore,
  type ObjectBody,
  type ObjectKind,
  type ObjectRetention,
  type PutOptions,
  type Retention,
} from '../../storage/index.js';
import { ObjectLock, type ObjectRef } from './object-lock.js';
import { RetainingStore } from './retaining-store.js';
import { DAY_SECONDS, RetentionPolicy, objectLockConfig } from './retention-policy.js';

const DAY = DAY_SECONDS * 1000;
const hex = (n: number) => n.toString(16).padStart(64, '0');

/** A MemoryStore with an in-memory object lock that counts its calls. */
class LockingMemoryStore extends MemoryStore {
  readonly until = new Map<string, number>();
  readonly calls = { get: 0, extend: 0 };
  refuseDeletes = false;
  readonly retention: ObjectRetention = {
    prepare: () => Promise.resolve(),
    get: (kind, name) => {
      this.calls.get++;
      const ms = this.until.get(`${kind}/${name}`);
      return Promise.resolve(
        ms === undefined ? undefined : { mode: 'compliance' as const, until: new Date(ms) },
      );
    },
    extend: (kind, name, r) => {
      this.calls.extend++;
      const key = `${kind}/${name}`;
      this.until.set(key, Math.max(this.until.get(key) ?? 0, r.until.getTime()));
      return Promise.resolve();
    },
  };

  override async put(kind: ObjectKind, name: string, data: ObjectBody, options: PutOptions = {}) {
    await super.put(kind, name, data, options);
    if (options.retention) this.until.set(`${kind}/${name}`, options.retention.until.getTime());
  }

  override async delete(kind: ObjectKind, name: string): Promise<void> {
    if (this.refuseDeletes) throw new HoldfastError('STORAGE_FAILED', 'AccessDenied');
    await super.delete(kind, name);
  }
}

function clockAt(ms: number): Clock & { set(ms: number): void } {
  let now = ms;
  return { now: () => new Date(now), set: (m) => (now = m) };
}

void describe('RetentionPolicy', () => {
  void it('rounds retain-until dates up to generation boundaries after the period', () => {
    const policy = new RetentionPolicy(objectLockConfig('compliance', 30 * DAY_SECONDS));
    assert.equal(policy.generationMs, 10 * DAY);
    const t = 1000 * DAY + 5;
    assert.equal(policy.horizon(new Date(t)).getTime(), 1040 * DAY);
    assert.equal(policy.horizon(new Date(1000 * DAY)).getTime(), 1030 * DAY);
    assert.equal(policy.horizon(new Date(1009 * DAY)).getTime(), 1040 * DAY);
  });

  void it('rejects periods outside 1 s to 10 years and unknown modes', () => {
    for (const bad of [0, 0.5, 3651 * DAY_SECONDS])
      assert.throws(
        () => objectLockConfig('governance', bad),
        (e) => isHoldfastError(e, 'USAGE'),
      );
    assert.throws(
      () => objectLockConfig('forever' as 'governance', 10),
      (e) => isHoldfastError(e, 'USAGE'),
    );
  });
});

void describe('ObjectLock', () => {
  const config = objectLockConfig('compliance', 30 * DAY_SECONDS);

  void it('extends what falls short, once per generation, not once per backup', async () => {
    const store = new LockingMemoryStore();
    const clock = clockAt(1000 * DAY + 1);
    const packs: ObjectRef[] = Array.from({ length: 10 }, (_, i) => ['pack', hex(i)] as const);
    for (const [i, [, name]] of packs.entries())
      store.until.set(`pack/${name}`, (i < 5 ? 1020 : 1040) * DAY);
    const lock = new ObjectLock(new RetentionPolicy(config), clock);
    const first = await lock.extend(store, packs, silentLogger);
    assert.deepEqual(first, { checked: 10, extended: 5, horizon: new Date(1040 * DAY) });
    // More backups in the same generation: no request at all.
    clock.set(1009 * DAY);
    for (let i = 0; i < 5; i++) await lock.extend(store, packs, silentLogger);
    assert.deepEqual(store.calls, { get: 10, extend: 5 });
    // The next generation: each pack is extended once more, to the next boundary.
    clock.set(1010 * DAY + 1);
    const next = await lock.extend(store, packs, silentLogger);
    assert.equal(next.extended, 10);
    assert.equal(next.horizon.getTime(), 1050 * DAY);
    clock.set(1019 * DAY);
    await lock.extend(store, packs, silentLogger);
    assert.deepEqual(store.calls, { get: 10, extend: 15 });
    for (const [, name] of packs) assert.equal(store.until.get(`pack/${name}`), 1050 * DAY);
  });

  void it('skips missing objects with a warning', async () => {
    const store = new LockingMemoryStore();
    const retention = store.retention;
    const lock = new ObjectLock(new RetentionPolicy(config), clockAt(0));
    const warnings: string[] = [];
    const missing: ObjectRetention = {
      ...retention,
      get: () => Promise.reject(new HoldfastError('NOT_FOUND', 'gone')),
    };
    Object.defineProperty(store, 'retention', { value: missing });
    const r = await lock.extend(store, [['pack', hex(1)]], {
      ...silentLogger,
      warn: (m) => warnings.push(m),
    });
    assert.equal(r.extended, 0);
    assert.match(warnings[0] ?? '', /is missing/);
  });

  void it('deletes only objects whose retention has ended', async () => {
    const store = new LockingMemoryStore();
    const clock = clockAt(1000 * DAY);
    const lock = new ObjectLock(new RetentionPolicy(config), clock);
    const retaining = new RetainingStore(store, lock);
    await retaining.put('snapshot', hex(1), Buffer.from('s'));
    const outcome = await retaining.deleteUnlessRetained('snapshot', hex(1));
    assert.equal(outcome.retainedUntil?.getTime(), 1030 * DAY);
    assert.ok(await store.stat('snapshot', hex(1)));
    await assert.rejects(retaining.delete('snapshot', hex(1)), /retained until/);
    clock.set(1031 * DAY);
    assert.deepEqual(await retaining.deleteUnlessRetained('snapshot', hex(1)), {});
    assert.equal(await store.stat('snapshot', hex(1)), undefined);
    assert.deepEqual(await retaining.deleteUnlessRetained('snapshot', hex(1)), {});
  });

  void it('reports a deletion the service refuses as retained', async () => {
    const store = new LockingMemoryStore();
    const clock = clockAt(1000 * DAY);
    await store.put('index', hex(2), Buffer.from('i'), {
      retention: { mode: 'compliance', until: new Date(999 * DAY) },
    });
    store.refuseDeletes = true;
    const lock = new ObjectLock(new RetentionPolicy(config), clock);
    const outcome = await lock.deleteUnlessRetained(store, 'index', hex(2));
    assert.equal(outcome.retainedUntil?.getTime(), 999 * DAY);
  });

  void it('retains every object but lock files, and needs storage that can', async () => {
    const store = new LockingMemoryStore();
    const lock = new ObjectLock(new RetentionPolicy(config), clockAt(1000 * DAY));
    const retaining = new RetainingStore(store, lock);
    await retaining.put('pack', hex(3), Buffer.from('p'));
    await retaining.put('lock', hex(4), Buffer.from('l'));
    assert.equal(store.until.get(`pack/${hex(3)}`), 1030 * DAY);
    assert.equal(store.until.has(`lock/${hex(4)}`), false);
    await retaining.delete('lock', hex(4));
    assert.deepEqual(lock.written('pack'), [hex(3)]);
    const plain = new RetainingStore(new MemoryStore(), lock);
    await assert.rejects(plain.put('pack', hex(5), Buffer.from('p')), (e) =>
      isHoldfastError(e, 'STORAGE_FAILED'),
    );
    const r: Retention | undefined = await retaining.retention?.get('pack', hex(3));
    assert.equal(r?.mode, 'compliance');
  });
});
