/**
 * Calendar arithmetic in one IANA time zone, through Intl (no time zone database of our own):
 * civil fields of an instant, ISO weeks, and Go's `time.AddDate` so that keep-within matches
 * restic to the hour across daylight-saving changes and month ends.
 */
import { HoldfastError } from '../../core/index.js';

/** Wall-clock fields; month 1–12. */
export interface CivilTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

/** The zone Intl resolves for this process (the TZ variable or the system zone). */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export class ZonedCalendar {
  private readonly formatter: Intl.DateTimeFormat;

  private constructor(readonly timeZone: string) {
    this.formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Throws USAGE for a name Intl does not know. */
  static of(timeZone: string): ZonedCalendar {
    try {
      return new ZonedCalendar(timeZone);
    } catch (err) {
      throw new HoldfastError('USAGE', `unknown time zone "${timeZone}"`, {
        hint: 'use an IANA name such as Europe/Berlin, America/New_York or UTC',
        cause: err,
      });
    }
  }

  civil(instant: number): CivilTime {
    const f: Record<string, number> = {};
    for (const p of this.formatter.formatToParts(instant))
      if (p.type !== 'literal') f[p.type] = Number(p.value);
    return {
      year: f.year!,
      month: f.month!,
      day: f.day!,
      hour: f.hour!,
      minute: f.minute!,
      second: f.second!,
      millisecond: ((instant % 1000) + 1000) % 1000,
    };
  }

  /** Offset of the zone from UTC at `instant`, in milliseconds (east positive). */
  offsetMs(instant: number): number {
    const c = this.civil(instant);
    return civilAsUtc({ ...c, millisecond: 0 }) - Math.floor(instant / 1000) * 1000;
  }

  /**
   * The instant of a wall-clock time, normalising out-of-range fields (October 32 is
   * November 1) like Go's `time.Date`. A wall time that a daylight-saving change skips or repeats
   * resolves as Go resolves it: the offset in effect at the wall time read as UTC, corrected once.
   */
  instantOf(c: CivilTime): number {
    const wall = civilAsUtc(c);
    const first = this.offsetMs(wall);
    const second = this.offsetMs(wall - first);
    return wall - (second === first ? first : second);
  }

  /** Go's `t.AddDate(years, months, days)` on this zone's calendar (wall clock kept). */
  addDate(instant: number, years: number, months: number, days: number): number {
    const c = this.civil(instant);
    return this.instantOf({
      ...c,
      year: c.year + years,
      month: c.month + months,
      day: c.day + days,
    });
  }

  /** "2024-01-01 00:30:00" in this zone (restic's table format). */
  format(instant: number): string {
    const c = this.civil(instant);
    const p = (n: number): string => String(n).padStart(2, '0');
    return `${c.year}-${p(c.month)}-${p(c.day)} ${p(c.hour)}:${p(c.minute)}:${p(c.second)}`;
  }
}

function civilAsUtc(c: CivilTime): number {
  const d = new Date(0);
  d.setUTCFullYear(c.year, c.month - 1, c.day);
  d.setUTCHours(c.hour, c.minute, c.second, c.millisecond);
  return d.getTime();
}

/** ISO 8601 week-numbering year and week of a calendar date (Go's `time.ISOWeek`). */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const weekday = date.getUTCDay() || 7; // Monday 1 … Sunday 7
  // The week belongs to the year of its Thursday.
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const isoYear = date.getUTCFullYear();
  const jan1 = new Date(0);
  jan1.setUTCFullYear(isoYear, 0, 1);
  const week = Math.floor((date.getTime() - jan1.getTime()) / 86_400_000 / 7) + 1;
  return { year: isoYear, week };
}
