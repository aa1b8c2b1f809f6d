/**
 * The golden-file fixture: ~110 snapshots over 2023-01 … 2025-03 at a fixed clock, built by plain
 * arithmetic so it never changes. It covers DST changes in Europe/Berlin (2023-03-26, 2023-10-29)
 * and America/New_York (2023-03-12, 2023-11-05), the 2023/2024 year end in several zones, ISO
 * week 2025-W01 starting in 2024, equal times, three Groups, tags, unsorted paths, and
 * future-dated snapshots (one far ahead, one inside the skew allowance). Written to
 * snapshots.json beside this file for review.
 */
export interface FixtureSnapshot {
  readonly id: string;
  readonly time: string;
  readonly hostname: string;
  readonly paths: string[];
  readonly tags: string[];
}

/** The fixed clock of every golden case. */
export const FIXTURE_NOW = new Date('2025-03-15T12:00:00Z');

export function buildFixture(): FixtureSnapshot[] {
  const out: FixtureSnapshot[] = [];
  const add = (prefix: string, hostname: string, paths: string[], time: string, tags: string[]) => {
    const n = out.filter((s) => s.id.startsWith(prefix)).length + 1;
    out.push({ id: `${prefix}${String(n).padStart(3, '0')}`, time, hostname, paths, tags });
  };
  const home = (time: string, tags: string[] = ['daily']) =>
    add('a', 'alpha', ['/home'], time, tags);

  // Group alpha:/home — the 1st and 15th of every month of 2023 and 2024, 02:00Z.
  for (let year = 2023; year <= 2024; year++) {
    for (let month = 1; month <= 12; month++) {
      for (const day of [1, 15]) {
        const mm = String(month).padStart(2, '0');
        const dd = String(day).padStart(2, '0');
        const release = day === 15 && month % 6 === 0; // June and December
        home(
          `${year}-${mm}-${dd}T02:00:00Z`,
          release ? ['daily', 'release', `v${year - 2022}`] : month === 7 ? [] : ['daily'],
        );
      }
    }
  }
  // DST changes: Berlin spring forward (01:30 CET, 03:30 CEST) and fall back (02:30 twice).
  home('2023-03-26T00:30:00Z');
  home('2023-03-26T01:30:00Z');
  home('2023-10-29T00:30:00Z');
  home('2023-10-29T01:30:00Z');
  // New York spring forward (01:30 EST, 03:30 EDT) and fall back (01:30 twice).
  home('2023-03-12T06:30:00Z');
  home('2023-03-12T07:30:00Z');
  home('2023-11-05T05:30:00Z', ['manual']);
  home('2023-11-05T06:30:00Z', ['manual']);
  // Year end: Berlin sees 2023-12-31 23:30 and 2024-01-01 00:30; New York sees both in 2023.
  home('2023-12-31T22:30:00Z');
  home('2023-12-31T23:30:00Z');
  home('2024-01-01T04:30:00Z');
  // ISO weeks: Sunday 2024-12-29 is 2024-W52, Monday 2024-12-30 is 2025-W01.
  home('2024-12-29T12:00:00Z');
  home('2024-12-30T12:00:00Z');
  // The last three weeks daily at 21:30Z (22:30 in Berlin, 03:00 the next day in Kolkata).
  for (let day = 20; day <= 42; day++) {
    const d = new Date(Date.UTC(2025, 1, day, 21, 30));
    home(d.toISOString().replace('.000Z', 'Z'), day % 7 === 0 ? ['daily', 'manual'] : ['daily']);
  }
  // Two snapshots with the same time: ties break by id.
  home('2025-03-10T21:30:00Z', ['daily']);
  // Future-dated: a forged snapshot far ahead, and one inside the one-minute skew allowance.
  home('2026-01-01T00:00:00Z', ['daily']);
  home('2025-03-15T12:00:30Z', ['daily']);

  // Group alpha:/etc,/home — weekly on Sundays 2025-01-05 … 2025-03-09, paths in either order.
  for (let week = 0; week < 10; week++) {
    const d = new Date(Date.UTC(2025, 0, 5 + 7 * week, 3, 0));
    add(
      'b',
      'alpha',
      week % 2 === 0 ? ['/etc', '/home'] : ['/home', '/etc'],
      d.toISOString().replace('.000Z', 'Z'),
      ['weekly'],
    );
  }
  // Group beta:/home — monthly on the 28th of 2024 at 23:15Z, plus one release.
  for (let month = 1; month <= 12; month++) {
    const d = new Date(Date.UTC(2024, month - 1, 28, 23, 15));
    add(
      'c',
      'beta',
      ['/home'],
      d.toISOString().replace('.000Z', 'Z'),
      month === 6 ? ['release'] : [],
    );
  }
  return out;
}
