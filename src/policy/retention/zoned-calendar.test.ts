import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoWeek, ZonedCalendar } from './zoned-calendar.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

void describe('ZonedCalendar', () => {
  const berlin = ZonedCalendar.of('Europe/Berlin');
  const ny = ZonedCalendar.of('America/New_York');

  void it('reads civil time on both sides of a DST change', () => {
    assert.equal(berlin.format(at('2023-03-26T00:59:59Z')), '2023-03-26 01:59:59');
    assert.equal(berlin.format(at('2023-03-26T01:00:00Z')), '2023-03-26 03:00:00');
    assert.equal(ny.format(at('2023-11-05T05:30:00Z')), '2023-11-05 01:30:00');
    assert.equal(ny.format(at('2023-11-05T06:30:00Z')), '2023-11-05 01:30:00');
    assert.equal(berlin.offsetMs(at('2023-07-01T00:00:00Z')), 2 * 3_600_000);
    assert.equal(ny.offsetMs(at('2023-01-01T00:00:00Z')), -5 * 3_600_000);
  });

  void it('resolves skipped and repeated wall times as Go time.Date does', () => {
    const c = { minute: 30, second: 0, millisecond: 0 };
    // 02:30 does not exist on 2023-03-26 in Berlin: Go yields 03:30 CEST (01:30Z).
    assert.equal(
      iso(berlin.instantOf({ year: 2023, month: 3, day: 26, hour: 2, ...c })),
      '2023-03-26T01:30:00.000Z',
    );
    // 02:30 happens twice on 2023-10-29: Go takes the second (CET, 01:30Z).
    assert.equal(
      iso(berlin.instantOf({ year: 2023, month: 10, day: 29, hour: 2, ...c })),
      '2023-10-29T01:30:00.000Z',
    );
    // Normalisation: October 32 is November 1.
    assert.equal(
      iso(berlin.instantOf({ year: 2023, month: 10, day: 32, hour: 12, ...c })),
      '2023-11-01T11:30:00.000Z',
    );
  });

  void it('adds calendar months like Go AddDate (Mar 31 - 1 month = Mar 2 or 3)', () => {
    assert.equal(
      berlin.format(berlin.addDate(at('2024-03-31T10:00:00Z'), 0, -1, 0)),
      '2024-03-02 12:00:00',
    );
    assert.equal(
      berlin.format(berlin.addDate(at('2023-03-31T10:00:00Z'), 0, -1, 0)),
      '2023-03-03 12:00:00',
    );
    // One day back across the spring-forward keeps the wall clock: 23 hours apart.
    const t = at('2023-03-26T12:00:00Z');
    assert.equal(t - berlin.addDate(t, 0, 0, -1), 23 * 3_600_000);
  });

  void it('refuses unknown zones with USAGE', () => {
    assert.throws(() => ZonedCalendar.of('Mars/Olympus'), { code: 'USAGE' });
  });
});

void describe('isoWeek', () => {
  void it('puts year-end days in the week of their Thursday', () => {
    assert.deepEqual(isoWeek(2020, 12, 31), { year: 2020, week: 53 });
    assert.deepEqual(isoWeek(2021, 1, 3), { year: 2020, week: 53 });
    assert.deepEqual(isoWeek(2021, 1, 4), { year: 2021, week: 1 });
    assert.deepEqual(isoWeek(2024, 12, 30), { year: 2025, week: 1 });
    assert.deepEqual(isoWeek(2023, 1, 1), { year: 2022, week: 52 });
    assert.deepEqual(isoWeek(2024, 6, 15), { year: 2024, week: 24 });
  });
});
