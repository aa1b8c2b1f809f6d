/**
 * The object lock policy of a repository (repository-format.md, "Object lock"): every object but
 * lock files is retained until a generation boundary at least `period` after it is written. A
 * generation is a fixed, epoch-aligned slice of time; rounding retain-until dates up to its
 * boundaries means that every object written, and every extension made, within one generation
 * gets the same date, so an object is extended at most once per generation, not once per backup.
 */
import { HoldfastError } from '../../core/index.js';
import type { RetentionMode } from '../../storage/index.js';
import type { ObjectLockConfig } from '../format/index.js';

export const DAY_SECONDS = 86_400;
/** Longest retention init accepts: locks can be weaponised to run up storage costs. */
export const MAX_LOCK_DAYS = 3650;

export class RetentionPolicy {
  readonly mode: RetentionMode;
  readonly periodMs: number;
  readonly generationMs: number;

  constructor(config: ObjectLockConfig) {
    this.mode = config.mode;
    this.periodMs = config.period_seconds * 1000;
    this.generationMs = config.generation_seconds * 1000;
  }

  /**
   * The retain-until date for an object written at `now`, and the horizon a snapshot written at
   * `now` needs from everything it depends on: the first generation boundary at or after
   * now + period.
   */
  horizon(now: Date): Date {
    const at = now.getTime() + this.periodMs;
    return new Date(Math.ceil(at / this.generationMs) * this.generationMs);
  }
}

/**
 * The config record for `init --object-lock-days` (or a shorter period, for tests): the
 * generation is a third of the period (Veeam's 10 days for 30), at least one second.
 */
export function objectLockConfig(mode: RetentionMode, periodSeconds: number): ObjectLockConfig {
  if (
    !Number.isInteger(periodSeconds) ||
    periodSeconds < 1 ||
    periodSeconds > MAX_LOCK_DAYS * DAY_SECONDS
  ) {
    throw new HoldfastError(
      'USAGE',
      `object lock period must be a whole number of seconds from 1 to ${MAX_LOCK_DAYS} days`,
    );
  }
  if (mode !== 'governance' && mode !== 'compliance')
    throw new HoldfastError('USAGE', `object lock mode must be governance or compliance`);
  return {
    mode,
    period_seconds: periodSeconds,
    generation_seconds: Math.max(1, Math.floor(periodSeconds / 3)),
  };
}
