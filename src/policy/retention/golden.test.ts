/**
 * Golden files: the retention decision for the fixture (testdata/fixture.ts) under each case,
 * one JSON file per case in testdata/golden/. They are the spec — reviewed by hand against
 * restic's rules — so a change in any decision shows up as a diff there.
 *
 * Regenerate after an intended change, then review the diff:
 *   npx tsc -p . && UPDATE_GOLDEN=1 node --test dist/policy/retention/golden.test.js
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseGroupBy, type GroupByField } from './group-snapshots.js';
import { planRetention } from './plan-retention.js';
import { parseRetentionDuration as d } from './retention-duration.js';
import { describePolicy, type RetentionPolicy } from './retention-policy.js';
import { buildFixture, FIXTURE_NOW, type FixtureSnapshot } from './testdata/fixture.js';
import { ZonedCalendar } from './zoned-calendar.js';

/** Tests run from dist/; the goldens stay in src/ (dist/policy/retention → src/policy/retention). */
const TESTDATA = fileURLToPath(new URL('../../../src/policy/retention/testdata/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface GoldenCase {
  readonly name: string;
  readonly policy: RetentionPolicy;
  readonly groupBy?: string;
  readonly timeZone?: string;
}

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

const CASES: readonly GoldenCase[] = [
  // Each rule alone (Europe/Berlin, grouped by host and paths).
  { name: 'last-5', policy: { last: 5 } },
  { name: 'last-unlimited', policy: { last: -1 } },
  { name: 'hourly-24', policy: { hourly: 24 } },
  { name: 'daily-7', policy: { daily: 7 } },
  { name: 'daily-30', policy: { daily: 30 } },
  { name: 'weekly-8', policy: { weekly: 8 } },
  { name: 'monthly-12', policy: { monthly: 12 } },
  { name: 'monthly-unlimited', policy: { monthly: -1 } },
  { name: 'yearly-5', policy: { yearly: 5 } },
  { name: 'within-1m15d', policy: { within: d('1m15d') } },
  { name: 'within-1y', policy: { within: d('1y') } },
  { name: 'within-2d12h', policy: { within: d('2d12h') } },
  { name: 'within-hourly-3d', policy: { withinHourly: d('3d') } },
  { name: 'within-daily-1m', policy: { withinDaily: d('1m') } },
  { name: 'within-weekly-3m', policy: { withinWeekly: d('3m') } },
  { name: 'within-monthly-1y', policy: { withinMonthly: d('1y') } },
  { name: 'within-yearly-5y', policy: { withinYearly: d('5y') } },
  { name: 'tag-release', policy: { tags: [['release']] } },
  { name: 'tag-release-and-v1', policy: { tags: [['release', 'v1']] } },
  { name: 'tag-manual-or-weekly', policy: { tags: [['manual'], ['weekly']] } },
  { name: 'tag-untagged', policy: { tags: [['']] } },
  // Combinations.
  { name: 'combo-restic-docs', policy: { daily: 7, weekly: 5, monthly: 12, yearly: 75 } },
  { name: 'combo-last3-within2d-tag', policy: { last: 3, within: d('2d'), tags: [['release']] } },
  { name: 'combo-daily3-monthly-unlimited', policy: { daily: 3, monthly: -1 } },
  {
    name: 'combo-within-buckets',
    policy: { withinDaily: d('7d'), withinWeekly: d('1m'), withinMonthly: d('1y'), yearly: 2 },
  },
  { name: 'combo-hourly-daily-weekly', policy: { hourly: 6, daily: 5, weekly: 3 } },
  // Grouping variants.
  { name: 'group-host-daily-7', policy: { daily: 7 }, groupBy: 'host' },
  { name: 'group-none-last-10', policy: { last: 10 }, groupBy: '' },
  { name: 'group-host-paths-tags-weekly-4', policy: { weekly: 4 }, groupBy: 'host,paths,tags' },
  { name: 'group-tags-monthly-3', policy: { monthly: 3 }, groupBy: 'tags' },
  // Time zones: DST days, the 2023/2024 year end and day boundaries move with the zone.
  { name: 'tz-utc-hourly-100', policy: { hourly: 100 }, timeZone: 'UTC' },
  { name: 'tz-berlin-hourly-100', policy: { hourly: 100 }, timeZone: BERLIN },
  { name: 'tz-new-york-hourly-100', policy: { hourly: 100 }, timeZone: NEW_YORK },
  { name: 'tz-utc-daily-100', policy: { daily: 100 }, timeZone: 'UTC' },
  { name: 'tz-new-york-daily-100', policy: { daily: 100 }, timeZone: NEW_YORK },
  { name: 'tz-kolkata-daily-7', policy: { daily: 7 }, timeZone: 'Asia/Kolkata' },
  { name: 'tz-utc-yearly-3', policy: { yearly: 3 }, timeZone: 'UTC' },
  { name: 'tz-berlin-yearly-3', policy: { yearly: 3 }, timeZone: BERLIN },
  { name: 'tz-new-york-yearly-3', policy: { yearly: 3 }, timeZone: NEW_YORK },
  { name: 'tz-new-york-weekly-60', policy: { weekly: 60 }, timeZone: NEW_YORK },
  { name: 'tz-new-york-within-1m', policy: { within: d('1m') }, timeZone: NEW_YORK },
  // Future-dated snapshots never take a slot nor move the keep-within reference.
  { name: 'future-last-1', policy: { last: 1 } },
  { name: 'future-within-1d', policy: { within: d('1d') } },
];

/** One reviewable line per snapshot: id, local time and weekday, reasons, counters. */
function line(s: FixtureSnapshot, cal: ZonedCalendar, extra = ''): string {
  const t = Date.parse(s.time);
  const weekday = new Intl.DateTimeFormat('en-US', { timeZone: cal.timeZone, weekday: 'short' });
  return `${s.id} ${cal.format(t)} ${weekday.format(t)}${extra}`;
}

function render(c: GoldenCase, fixture: FixtureSnapshot[]): unknown {
  const timeZone = c.timeZone ?? BERLIN;
  const cal = ZonedCalendar.of(timeZone);
  const groupBy: GroupByField[] =
    c.groupBy === undefined ? ['host', 'paths'] : parseGroupBy(c.groupBy);
  const groups = planRetention(fixture, { policy: c.policy, groupBy, timeZone, now: FIXTURE_NOW });
  return {
    case: c.name,
    policy: describePolicy(c.policy),
    groupBy,
    timeZone,
    now: FIXTURE_NOW.toISOString(),
    groups: groups.map((g) => ({
      group_key: g.group_key,
      keep: g.reasons.map((r) => {
        const counters = Object.entries(r.counters).map(([k, v]) => `${k}=${v}`);
        return line(
          r.snapshot,
          cal,
          ` | ${r.matches.join(', ')}${counters.length ? ` | ${counters.join(' ')}` : ''}`,
        );
      }),
      remove: g.remove.map((s) => line(s, cal)),
    })),
  };
}

async function formatJson(value: unknown, file: string): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(JSON.stringify(value), { ...options, filepath: file });
}

async function check(file: string, actual: unknown): Promise<void> {
  if (UPDATE) {
    await writeFile(file, await formatJson(actual, file));
    return;
  }
  let stored: unknown;
  try {
    stored = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    assert.fail(`cannot read golden file ${file} (${String(err)}); run with UPDATE_GOLDEN=1`);
  }
  assert.deepEqual(actual, stored, `${file} differs; if intended, regenerate and review the diff`);
}

void describe('retention golden files', () => {
  const fixture = buildFixture();

  void it('fixture matches testdata/snapshots.json', async () => {
    await check(`${TESTDATA}snapshots.json`, fixture);
  });

  void it('case names are unique', () => {
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
  });

  for (const c of CASES) {
    void it(c.name, async () => {
      if (UPDATE) await mkdir(`${TESTDATA}golden`, { recursive: true });
      await check(`${TESTDATA}golden/${c.name}.json`, render(c, fixture));
    });
  }
});
