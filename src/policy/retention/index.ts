/**
 * Retention: which Snapshots a policy keeps, with the reasons — restic's `forget` rules
 * (docs/retention.md; restic internal/restic/snapshot_policy.go), evaluated per Group.
 *
 * Vocabulary: a *Group* is the snapshots sharing a group key (host, paths, tags). A *rule* is one
 * `keep-*` setting. A count rule walks the group newest first and keeps a snapshot whenever it
 * opens a new *bucket* (hour, day, ISO week, month, year — computed in one IANA time zone) while
 * its *counter* is above zero; -1 means unlimited. `within` rules measure back from the newest
 * snapshot of the group. A *future-dated* snapshot (later than `now` plus a skew allowance) is
 * always kept and never takes part in the evaluation, so it cannot cause any removal (ADR 0005).
 */
export * from './retention-duration.js';
export * from './zoned-calendar.js';
export * from './retention-policy.js';
export * from './group-snapshots.js';
export * from './apply-policy.js';
export * from './plan-retention.js';
