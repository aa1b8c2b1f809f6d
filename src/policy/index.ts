/**
 * policy: pure decisions over plain data — no I/O, no clock reads, no environment. Time enters
 * only as an explicit `now` (from the core Clock of the caller). Imports nothing but core/.
 *
 * - retention/: which Snapshots `forget` keeps, and why (restic's rules, calendar buckets in a
 *   stated time zone, future-dated snapshots never drive removal — docs/retention.md).
 */
export * from './retention/index.js';
