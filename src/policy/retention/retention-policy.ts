/**
 * A retention policy: restic's `--keep-*` settings. Counts are whole numbers, 0 (or absent) means
 * the rule is off and UNLIMITED (-1) keeps one snapshot per bucket without limit. `tags` is
 * restic's `--keep-tag`: each entry is one tag list, matched when a snapshot carries all its tags.
 */
import { HoldfastError } from '../../core/index.js';
import {
  formatRetentionDuration,
  isZeroDuration,
  type RetentionDuration,
} from './retention-duration.js';

export const UNLIMITED = -1;

export interface RetentionPolicy {
  readonly last?: number;
  readonly hourly?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
  readonly within?: RetentionDuration;
  readonly withinHourly?: RetentionDuration;
  readonly withinDaily?: RetentionDuration;
  readonly withinWeekly?: RetentionDuration;
  readonly withinMonthly?: RetentionDuration;
  readonly withinYearly?: RetentionDuration;
  readonly tags?: readonly (readonly string[])[];
}

export const COUNT_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type CountRule = (typeof COUNT_RULES)[number];

export const WITHIN_RULES = [
  'withinHourly',
  'withinDaily',
  'withinWeekly',
  'withinMonthly',
  'withinYearly',
] as const;
export type WithinRule = (typeof WITHIN_RULES)[number];

/** True when no rule is set: restic then refuses to forget anything by policy. */
export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return (
    COUNT_RULES.every((r) => (p[r] ?? 0) === 0) &&
    isZeroDuration(p.within) &&
    WITHIN_RULES.every((r) => isZeroDuration(p[r])) &&
    (p.tags ?? []).length === 0
  );
}

/** Throws USAGE for counts other than whole numbers ≥ -1 and for negative durations. */
export function validatePolicy(p: RetentionPolicy): void {
  for (const r of COUNT_RULES) {
    const n = p[r];
    if (n !== undefined && (!Number.isInteger(n) || n < UNLIMITED))
      throw new HoldfastError('USAGE', `invalid keep-${r} ${n}`, {
        hint: "use a whole number, or 'unlimited'",
      });
  }
  for (const d of [p.within, ...WITHIN_RULES.map((r) => p[r])]) {
    if (d && [d.years, d.months, d.days, d.hours].some((n) => !Number.isInteger(n) || n < 0))
      throw new HoldfastError('USAGE', 'durations must not be negative');
  }
}

/** restic's tag-list rendering in reasons and summaries: "[a, b]". */
export function formatTagList(tags: readonly string[]): string {
  return `[${tags.join(', ')}]`;
}

/** restic's "Applying Policy" sentence, without the prefix. */
export function describePolicy(p: RetentionPolicy): string {
  const names: Record<CountRule, string> = {
    last: 'latest',
    hourly: 'hourly',
    daily: 'daily',
    weekly: 'weekly',
    monthly: 'monthly',
    yearly: 'yearly',
  };
  const keeps = COUNT_RULES.flatMap((r) => {
    const n = p[r] ?? 0;
    if (n > 0) return [`${n} ${names[r]}`];
    return n === UNLIMITED ? [`all ${names[r]}`] : [];
  });
  const keepw = WITHIN_RULES.flatMap((r) => {
    const d = p[r];
    if (!d || isZeroDuration(d)) return [];
    const kind = r.slice('within'.length).toLowerCase();
    return [`${kind} snapshots within ${formatRetentionDuration(d)}`];
  });
  let s = keeps.length > 0 ? `${keeps.join(', ')} snapshots` : '';
  if (keepw.length > 0) s += (s ? ', ' : '') + keepw.join(', ');
  if ((p.tags ?? []).length > 0)
    s += (s ? ' and ' : '') + `all snapshots with tags [${p.tags!.map(formatTagList).join(' ')}]`;
  if (p.within && !isZeroDuration(p.within))
    s +=
      (s ? ' and ' : '') +
      `all snapshots within ${formatRetentionDuration(p.within)} of the newest`;
  return `keep ${s}`;
}
