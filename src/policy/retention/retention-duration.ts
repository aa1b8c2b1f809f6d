/**
 * restic's retention durations: calendar amounts such as "1y2m3d4h" (y years, m months, d days,
 * h hours). Unlike core's millisecond durations, months and years have no fixed length: they are
 * subtracted on the calendar of the group's time zone (see ZonedCalendar.addDate).
 */
import { HoldfastError } from '../../core/index.js';

export interface RetentionDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

export const ZERO_DURATION: RetentionDuration = { years: 0, months: 0, days: 0, hours: 0 };

const UNIT_FIELD = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;

/**
 * Parses restic's syntax. As in restic, "" is the zero duration and a repeated unit overrides the
 * earlier one; unlike restic, negative numbers are refused here rather than by the caller.
 * Throws USAGE on anything else.
 */
export function parseRetentionDuration(text: string): RetentionDuration {
  const out = { ...ZERO_DURATION };
  let rest = text.trim();
  while (rest.length > 0) {
    const m = /^(-?\d+)([ymdh])/.exec(rest);
    if (!m) {
      throw new HoldfastError('USAGE', `invalid duration "${text}"`, {
        hint: 'use numbers with the units y (years), m (months), d (days), h (hours), e.g. 1y2m7d',
      });
    }
    const n = Number(m[1]);
    if (n < 0)
      throw new HoldfastError(
        'USAGE',
        `invalid duration "${text}": negative values are not allowed`,
      );
    out[UNIT_FIELD[m[2] as keyof typeof UNIT_FIELD]] = n;
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** restic's rendering: "1y2m", "7d", "" for zero. Used verbatim in reasons ("within 7d"). */
export function formatRetentionDuration(d: RetentionDuration): string {
  return (
    (d.years ? `${d.years}y` : '') +
    (d.months ? `${d.months}m` : '') +
    (d.days ? `${d.days}d` : '') +
    (d.hours ? `${d.hours}h` : '')
  );
}

export function isZeroDuration(d: RetentionDuration | undefined): boolean {
  return d === undefined || (d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0);
}
