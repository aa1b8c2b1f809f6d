/** Backoff arithmetic and an abortable sleep, separate so tests can inject both. */
import { setTimeout as delay } from 'node:timers/promises';
import { interrupted } from '../../core/index.js';

export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * "Full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform delay in
 * [0, min(cap, base·2^(n-1))). Spreading retries over the whole window stops many clients that
 * failed together from retrying together; `random` returns values in [0, 1).
 */
export function fullJitterDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number,
): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * window);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Waits `ms`, rejecting with INTERRUPTED as soon as the signal fires. */
export const sleep: Sleep = async (ms, signal) => {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw interrupted(signal);
    throw err;
  }
};
