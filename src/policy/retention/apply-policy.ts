/**
 * restic's ApplyPolicy for one Group (internal/restic/snapshot_policy.go, current restic), plus the
 * future-dated guard of ADR 0005. Given the same snapshots, policy and time zone it keeps exactly
 * the snapshots restic keeps, with restic's reason strings and counters.
 */
import { HoldfastError } from '../../core/index.js';
import type { GroupableSnapshot } from './group-snapshots.js';
import {
  formatRetentionDuration,
  isZeroDuration,
  type RetentionDuration,
} from './retention-duration.js';
import {
  COUNT_RULES,
  formatTagList,
  isEmptyPolicy,
  WITHIN_RULES,
  type CountRule,
  type RetentionPolicy,
} from './retention-policy.js';
import { isoWeek, type CivilTime, type ZonedCalendar } from './zoned-calendar.js';

export interface RetentionSnapshot extends GroupableSnapshot {
  readonly id: string;
  /** A Date or an RFC 3339 string. */
  readonly time: Date | string;
}

/** The count rules' counters after a kept snapshot; zero counters are left out, as in restic. */
export type KeepCounters = Partial<Record<CountRule, number>>;

export interface KeepReason<S> {
  readonly snapshot: S;
  /** e.g. "daily snapshot", "oldest monthly snapshot", "within 1d2h", "has tags [a]". */
  readonly matches: string[];
  readonly counters: KeepCounters;
}

export interface PolicyResult<S> {
  /** Newest first; future-dated snapshots lead. */
  readonly keep: S[];
  /** Newest first. */
  readonly remove: S[];
  /** One per kept snapshot, in the order of `keep`. */
  readonly reasons: KeepReason<S>[];
}

export const FUTURE_DATED_REASON = 'future-dated (clock skew or forgery): never drives removal';
export const UNREADABLE_TIME_REASON = 'unreadable time: never drives removal';
/** How far past `now` a snapshot may be dated before it counts as future-dated (ADR 0005). */
export const DEFAULT_FUTURE_SKEW_MS = 60_000;

export interface ApplyOptions {
  readonly calendar: ZonedCalendar;
  readonly now: Date;
  readonly futureSkewMs?: number;
  /** Without it an empty policy throws USAGE instead of removing every snapshot. */
  readonly allowRemoveAll?: boolean;
}

type Bucker = (c: CivilTime, nr: number) => number;

const BUCKERS: Record<CountRule, Bucker> = {
  last: (_c, nr) => nr,
  hourly: (c) => c.year * 1_000_000 + c.month * 10_000 + c.day * 100 + c.hour,
  daily: (c) => c.year * 10_000 + c.month * 100 + c.day,
  weekly: (c) => {
    const w = isoWeek(c.year, c.month, c.day);
    return w.year * 100 + w.week;
  },
  monthly: (c) => c.year * 100 + c.month,
  yearly: (c) => c.year,
};

/**
 * Decides keep or remove for every snapshot of one Group. Snapshots are ordered newest first
 * (equal times by id). Throws USAGE for an empty policy unless `allowRemoveAll`.
 */
export function applyPolicy<S extends RetentionSnapshot>(
  group: readonly S[],
  policy: RetentionPolicy,
  options: ApplyOptions,
): PolicyResult<S> {
  if (isEmptyPolicy(policy) && !options.allowRemoveAll)
    throw new HoldfastError('USAGE', 'no policy was specified, no snapshots will be removed', {
      hint: 'give at least one --keep-* option',
    });
  const limit = options.now.getTime() + (options.futureSkewMs ?? DEFAULT_FUTURE_SKEW_MS);
  const timed = group.map((s) => ({ s, t: timeOf(s) }));
  const byNewest = (a: { s: S; t: number }, b: { s: S; t: number }): number =>
    (Number.isNaN(a.t) ? 1 : 0) - (Number.isNaN(b.t) ? 1 : 0) ||
    b.t - a.t ||
    (a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0);
  // Future-dated and unreadable snapshots are set aside before anything is counted, so they take
  // no bucket, no counter and are not "the latest snapshot" that keep-within measures from.
  const setAside = timed.filter((x) => !(x.t <= limit)).sort(byNewest);
  const list = timed.filter((x) => x.t <= limit).sort(byNewest);

  const buckets = COUNT_RULES.map((rule) => ({
    rule,
    count: policy[rule] ?? 0,
    bucker: BUCKERS[rule],
    last: undefined as number | undefined,
    reason: `${rule} snapshot`,
  }));
  const counters = (): KeepCounters =>
    Object.fromEntries(buckets.filter((b) => b.count !== 0).map((b) => [b.rule, b.count]));

  const keep: S[] = [];
  const remove: S[] = [];
  const reasons: KeepReason<S>[] = [];
  for (const { s, t } of setAside) {
    keep.push(s);
    const why = Number.isNaN(t) ? UNREADABLE_TIME_REASON : FUTURE_DATED_REASON;
    reasons.push({ snapshot: s, matches: [why], counters: counters() });
  }
  if (list.length === 0) return { keep, remove, reasons };

  const cal = options.calendar;
  const latest = list[0]!.t;
  const cutoff = (d: RetentionDuration): number =>
    cal.addDate(latest, -d.years, -d.months, -d.days) - d.hours * 3_600_000;
  const within = policy.within && !isZeroDuration(policy.within) ? policy.within : undefined;
  const withinCutoff = within ? cutoff(within) : undefined;
  const withinBuckets = WITHIN_RULES.flatMap((rule) => {
    const d = policy[rule];
    if (!d || isZeroDuration(d)) return [];
    const kind = rule.slice('within'.length).toLowerCase() as CountRule;
    return [
      {
        cutoff: cutoff(d),
        bucker: BUCKERS[kind],
        last: undefined as number | undefined,
        reason: `${kind} within`,
        duration: formatRetentionDuration(d),
      },
    ];
  });

  list.forEach(({ s, t }, nr) => {
    const oldest = nr === list.length - 1;
    const civil = cal.civil(t);
    const matches: string[] = [];
    for (const tags of policy.tags ?? [])
      if (hasTags(s, tags)) matches.push(`has tags ${formatTagList(tags)}`);
    if (within && t > withinCutoff!) matches.push(`within ${formatRetentionDuration(within)}`);
    for (const b of buckets) {
      if (b.count === 0) continue;
      const val = b.bucker(civil, nr);
      // restic ≥ 0.16 also keeps the oldest snapshot while a counter is left, so a young
      // repository keeps its whole history; newer restic marks that case "oldest …".
      if (val !== b.last || oldest) {
        matches.push((val === b.last ? 'oldest ' : '') + b.reason);
        b.last = val;
        if (b.count > 0) b.count--;
      }
    }
    for (const w of withinBuckets) {
      if (!(t > w.cutoff)) continue;
      const val = w.bucker(civil, nr);
      if (val !== w.last || oldest) {
        matches.push(`${val === w.last ? 'oldest ' : ''}${w.reason} ${w.duration}`);
        w.last = val;
      }
    }
    if (matches.length > 0) {
      keep.push(s);
      reasons.push({ snapshot: s, matches, counters: counters() });
    } else remove.push(s);
  });
  return { keep, remove, reasons };
}

function timeOf(s: RetentionSnapshot): number {
  return s.time instanceof Date ? s.time.getTime() : Date.parse(s.time);
}

/** restic's Snapshot.HasTags: all tags present; an empty tag matches an untagged snapshot. */
export function hasTags(s: GroupableSnapshot, list: readonly string[]): boolean {
  const tags = s.tags ?? [];
  for (const tag of list) {
    if (tag === '' && tags.length === 0) return true;
    if (!tags.includes(tag)) return false;
  }
  return true;
}
