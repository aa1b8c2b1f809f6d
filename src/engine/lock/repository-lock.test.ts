import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedClock, isHoldfastError } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { Repository } from '../repository/index.js';
import { isStale, listLocks, removeLocks, RepositoryLock } from './repository-lock.js';

async function repo(): Promise<Repository> {
  return Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
  });
}

void test('shared locks coexist; an exclusive lock excludes everyone', async () => {
  const r = await repo();
  const a = await RepositoryLock.acquire(r, { mode: 'shared' });
  const b = await RepositoryLock.acquire(r, { mode: 'shared' });
  await assert.rejects(
    RepositoryLock.acquire(r, { mode: 'exclusive' }),
    (e) => isHoldfastError(e, 'LOCK_FAILED') && /pid/.test(e.message),
  );
  await a.release();
  await b.release();
  const x = await RepositoryLock.acquire(r, { mode: 'exclusive' });
  await assert.rejects(RepositoryLock.acquire(r, { mode: 'shared' }), (e) =>
    isHoldfastError(e, 'LOCK_FAILED'),
  );
  await x.release();
  assert.equal((await listLocks(r)).length, 0);
});

void test('locks of dead processes and old locks are stale and removed by unlock', async () => {
  const r = await repo();
  const dead = {
    time: new Date().toISOString(),
    exclusive: true,
    hostname: (await import('node:os')).hostname(),
    username: 'u',
    pid: 2 ** 22 + 12345,
  };
  assert.equal(isStale(dead, r.clock), true);
  const alive = { ...dead, pid: process.pid };
  assert.equal(isStale(alive, r.clock), false);
  assert.equal(
    isStale({ ...alive, hostname: 'elsewhere' }, fixedClock(new Date(Date.now() + 31 * 60_000))),
    true,
  );
  const bytes = r.sealLock(dead);
  await r.store.put('lock', (await import('../crypto/index.js')).fileIdOf(bytes), bytes);
  const shared = await RepositoryLock.acquire(r, { mode: 'exclusive' }); // a stale lock blocks nobody
  await shared.release();
  assert.equal(await removeLocks(r, false), 1);
});
