/** The whole decision `forget` makes: group the snapshots, then apply the policy to each Group. */
import { DEFAULT_FUTURE_SKEW_MS, applyPolicy, type KeepReason } from './apply-policy.js';
import type { RetentionSnapshot } from './apply-policy.js';
import {
  DEFAULT_GROUP_BY,
  groupSnapshots,
  type GroupByField,
  type GroupKey,
} from './group-snapshots.js';
import { HoldfastError } from '../../core/index.js';
import { isEmptyPolicy, validatePolicy, type RetentionPolicy } from './retention-policy.js';
import { ZonedCalendar } from './zoned-calendar.js';

export interface RetentionOptions {
  readonly policy: RetentionPolicy;
  /** Default host and paths; [] puts every snapshot in one Group. */
  readonly groupBy?: readonly GroupByField[];
  /** IANA zone the calendar buckets and keep-within arithmetic use. */
  readonly timeZone: string;
  /** From the caller's Clock; only used to recognise future-dated snapshots. */
  readonly now: Date;
  readonly futureSkewMs?: number;
  /** restic's --unsafe-allow-remove-all: an empty policy removes every snapshot given. */
  readonly allowRemoveAll?: boolean;
}

/** One Group's decision; field names follow restic's `forget --json` where they overlap. */
export interface RetentionGroup<S> {
  readonly group_key: GroupKey;
  readonly keep: S[];
  readonly remove: S[];
  readonly reasons: KeepReason<S>[];
}

/**
 * Groups ordered by key. Throws USAGE for an invalid policy, an unknown time zone, or an empty
 * policy without `allowRemoveAll`.
 */
export function planRetention<S extends RetentionSnapshot>(
  snapshots: readonly S[],
  options: RetentionOptions,
): RetentionGroup<S>[] {
  validatePolicy(options.policy);
  if (isEmptyPolicy(options.policy) && !options.allowRemoveAll)
    throw new HoldfastError('USAGE', 'no policy was specified, no snapshots will be removed', {
      hint: 'give at least one --keep-* option',
    });
  const calendar = ZonedCalendar.of(options.timeZone);
  const apply = {
    calendar,
    now: options.now,
    futureSkewMs: options.futureSkewMs ?? DEFAULT_FUTURE_SKEW_MS,
    ...(options.allowRemoveAll && { allowRemoveAll: true }),
  };
  return groupSnapshots(snapshots, options.groupBy ?? DEFAULT_GROUP_BY).map((g) => ({
    group_key: g.key,
    ...applyPolicy(g.snapshots, options.policy, apply),
  }));
}
