import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPolicy,
  FUTURE_DATED_REASON,
  UNREADABLE_TIME_REASON,
  type RetentionSnapshot,
} from './apply-policy.js';
import { parseRetentionDuration } from './retention-duration.js';
import type { RetentionPolicy } from './retention-policy.js';
import { ZonedCalendar } from './zoned-calendar.js';

const NOW = new Date('2024-06-30T12:00:00Z');
const utc = ZonedCalendar.of('UTC');

function snap(id: string, time: string, tags: string[] = []): RetentionSnapshot {
  return { id, time, hostname: 'h', paths: ['/p'], tags };
}

function run(
  list: RetentionSnapshot[],
  policy: RetentionPolicy,
  calendar = utc,
): { keep: string[]; remove: string[]; why: Record<string, string[]> } {
  const r = applyPolicy(list, policy, { calendar, now: NOW });
  return {
    keep: r.keep.map((s) => s.id),
    remove: r.remove.map((s) => s.id),
    why: Object.fromEntries(r.reasons.map((x) => [x.snapshot.id, x.matches])),
  };
}

void describe('applyPolicy', () => {
  const days = [
    snap('a', '2024-06-01T10:00:00Z'),
    snap('b', '2024-06-02T10:00:00Z'),
    snap('c', '2024-06-02T20:00:00Z'),
    snap('d', '2024-06-03T10:00:00Z'),
  ];

  void it('keeps the newest snapshot of each day, newest first, counting down', () => {
    const r = applyPolicy(days, { daily: 2 }, { calendar: utc, now: NOW });
    assert.deepEqual(
      r.keep.map((s) => s.id),
      ['d', 'c'],
    );
    assert.deepEqual(
      r.remove.map((s) => s.id),
      ['b', 'a'],
    );
    assert.deepEqual(r.reasons[0]!.counters, { daily: 1 });
    assert.deepEqual(r.reasons[1]!.counters, {});
    assert.deepEqual(r.reasons[1]!.matches, ['daily snapshot']);
  });

  void it('keeps the oldest snapshot while a counter is left (restic ≥ 0.16)', () => {
    const r = run(days, { daily: 5 });
    assert.deepEqual(r.keep, ['d', 'c', 'a']);
    assert.deepEqual(r.why.a, ['daily snapshot']);
    // The oldest shares its bucket with a kept snapshot: kept, and marked "oldest".
    const same = run([snap('x', '2024-06-01T09:00:00Z'), snap('y', '2024-06-01T10:00:00Z')], {
      daily: 3,
    });
    assert.deepEqual(same.keep, ['y', 'x']);
    assert.deepEqual(same.why.x, ['oldest daily snapshot']);
  });

  void it('treats -1 as unlimited', () => {
    const r = applyPolicy(days, { daily: -1 }, { calendar: utc, now: NOW });
    assert.deepEqual(
      r.keep.map((s) => s.id),
      ['d', 'c', 'a'],
    );
    assert.deepEqual(
      r.remove.map((s) => s.id),
      ['b'],
    );
    assert.deepEqual(r.reasons[2]!.counters, { daily: -1 });
  });

  void it('measures keep-within from the newest snapshot, on the calendar', () => {
    const r = run(days, { within: parseRetentionDuration('1d') });
    // newest d = 06-03 10:00; cutoff 06-02 10:00 exclusive: b sits exactly on it.
    assert.deepEqual(r.keep, ['d', 'c']);
    assert.deepEqual(r.why.d, ['within 1d']);
    const month = run(
      [
        snap('m1', '2024-03-31T10:00:00Z'),
        snap('m2', '2024-03-02T10:00:01Z'),
        snap('m3', '2024-03-02T09:59:59Z'),
      ],
      { within: parseRetentionDuration('1m') },
    );
    // Go's AddDate: 2024-03-31 minus one month is "February 31" = March 2.
    assert.deepEqual(month.keep, ['m1', 'm2']);
  });

  void it('keeps bucketed snapshots within a duration', () => {
    const r = run(days, { withinDaily: parseRetentionDuration('1d12h') });
    assert.deepEqual(r.keep, ['d', 'c']);
    assert.deepEqual(r.why.c, ['daily within 1d12h']);
  });

  void it('matches keep-tag lists (all tags of one list) and "" for untagged', () => {
    const list = [
      snap('t1', '2024-06-01T00:00:00Z', ['a', 'b']),
      snap('t2', '2024-06-02T00:00:00Z', ['a']),
      snap('t3', '2024-06-03T00:00:00Z'),
    ];
    assert.deepEqual(run(list, { tags: [['a', 'b']] }).keep, ['t1']);
    assert.deepEqual(run(list, { tags: [['a']] }).why.t1, ['has tags [a]']);
    assert.deepEqual(run(list, { tags: [['b'], ['a']] }).why.t1, ['has tags [b]', 'has tags [a]']);
    assert.deepEqual(run(list, { tags: [['']] }).keep, ['t3']);
  });

  void it('hourly buckets follow the zone: the repeated 01:xx hour in New York is one bucket', () => {
    const list = [snap('edt', '2023-11-05T05:30:00Z'), snap('est', '2023-11-05T06:30:00Z')];
    assert.deepEqual(run(list, { hourly: 1 }, ZonedCalendar.of('America/New_York')).keep, ['est']);
    assert.deepEqual(run(list, { hourly: 1 }, utc).keep, ['est']);
    assert.deepEqual(run(list, { hourly: 2 }, utc).keep, ['est', 'edt']);
    const ny = run(list, { hourly: 2 }, ZonedCalendar.of('America/New_York'));
    assert.deepEqual(ny.why.edt, ['oldest hourly snapshot']);
  });

  void it('breaks equal times by id so the result does not depend on input order', () => {
    const a = run([snap('2', '2024-06-01T00:00:00Z'), snap('1', '2024-06-01T00:00:00Z')], {
      last: 1,
    });
    const b = run([snap('1', '2024-06-01T00:00:00Z'), snap('2', '2024-06-01T00:00:00Z')], {
      last: 1,
    });
    assert.deepEqual(a, b);
    assert.deepEqual(a.keep, ['1']);
  });

  void it('never lets a future-dated snapshot take a slot or move keep-within', () => {
    const future = snap('f', '2034-01-01T00:00:00Z');
    const r = run([...days, future], { last: 1 });
    assert.deepEqual(r.keep, ['f', 'd']);
    assert.deepEqual(r.why.f, [FUTURE_DATED_REASON]);
    const w = run([...days, future], { within: parseRetentionDuration('1d') });
    assert.deepEqual(w.keep, ['f', 'd', 'c']);
    // Within the one-minute skew allowance a snapshot is ordinary.
    const skew = snap('s', new Date(NOW.getTime() + 30_000).toISOString());
    assert.deepEqual(run([...days, skew], { last: 1 }).keep, ['s']);
    // Only future-dated snapshots: nothing is removed.
    assert.deepEqual(run([future], { last: 1 }).keep, ['f']);
  });

  void it('keeps snapshots with an unreadable time', () => {
    const r = run([...days, snap('bad', 'yesterday')], { last: 1 });
    assert.deepEqual(r.keep, ['bad', 'd']);
    assert.deepEqual(r.why.bad, [UNREADABLE_TIME_REASON]);
  });

  void it('refuses an empty policy unless removing everything is allowed', () => {
    assert.throws(() => applyPolicy(days, {}, { calendar: utc, now: NOW }), { code: 'USAGE' });
    const all = applyPolicy(
      [...days, snap('f', '2034-01-01T00:00:00Z')],
      {},
      {
        calendar: utc,
        now: NOW,
        allowRemoveAll: true,
      },
    );
    assert.deepEqual(
      all.keep.map((s) => s.id),
      ['f'],
    );
    assert.equal(all.remove.length, 4);
  });
});
