/**
 * forget: removes Snapshots, chosen by a retention policy (docs/retention.md) or named by id.
 * Only snapshot objects are deleted; the data they referenced stays until prune. Snapshots dated
 * in the future are always kept and never cause another to be removed (ADR 0005).
 */
import { HoldfastError, throwIfAborted, type SnapshotId } from '../core/index.js';
import { findSnapshot, type Repository, type SnapshotEntry } from '../engine/index.js';
import {
  DEFAULT_FUTURE_SKEW_MS,
  FUTURE_DATED_REASON,
  hasTags,
  isEmptyPolicy,
  planRetention,
  type GroupByField,
  type RetentionGroup,
  type RetentionPolicy,
  type RetentionSnapshot,
} from '../policy/index.js';

/**
 * restic's snapshot filter: any of the hosts, all of the paths, any of the tag lists (where ""
 * matches an untagged snapshot).
 */
export interface ForgetFilter {
  readonly hosts?: readonly string[];
  readonly paths?: readonly string[];
  /** Each entry is one tag list ("a,b" = a and b); a snapshot matches when one list matches. */
  readonly tagLists?: readonly (readonly string[])[];
}

export interface ForgetRequest {
  readonly repo: Repository;
  readonly policy: RetentionPolicy;
  readonly groupBy?: readonly GroupByField[];
  readonly filter?: ForgetFilter;
  /** Explicit snapshots to remove ("latest", ids or unique prefixes); excludes a policy. */
  readonly snapshots?: readonly string[];
  /** IANA zone for the calendar buckets. */
  readonly timeZone: string;
  readonly dryRun?: boolean;
  /** restic's --unsafe-allow-remove-all: an empty policy removes every filtered snapshot. */
  readonly allowRemoveAll?: boolean;
  readonly signal?: AbortSignal;
  /** Called after each snapshot object is deleted (not in a dry run). */
  readonly onRemoved?: (id: SnapshotId) => void;
  /** Called for a snapshot the policy removes but object lock retains (it stays). */
  readonly onRetained?: (id: SnapshotId, until: Date) => void;
}

/** A snapshot the policy would remove that object lock keeps until `until`. */
export interface RetainedSnapshot {
  readonly entry: SnapshotEntry;
  readonly until: Date;
}

/** A snapshot as the policy sees it, with the repository entry it stands for. */
export interface ForgetCandidate extends RetentionSnapshot {
  readonly id: SnapshotId;
  readonly entry: SnapshotEntry;
}

export interface ForgetOutcome {
  /** One per Group, ordered by key; empty when explicit snapshots were given. */
  readonly groups: RetentionGroup<ForgetCandidate>[];
  /** Removed (or, in a dry run, to be removed), oldest first. */
  readonly removed: SnapshotEntry[];
  /** To be removed, but kept by object lock (never in a dry run). */
  readonly retained: RetainedSnapshot[];
  /** Kept because they are dated after `now` plus the skew allowance. */
  readonly futureDated: SnapshotEntry[];
  readonly dryRun: boolean;
  readonly now: Date;
}

export function matchesForgetFilter(e: SnapshotEntry, f: ForgetFilter): boolean {
  const s = e.snapshot;
  if (f.hosts?.length && !f.hosts.includes(s.hostname)) return false;
  if (f.paths?.length && !f.paths.every((p) => s.paths.includes(p))) return false;
  if (f.tagLists?.length && !f.tagLists.some((l) => hasTags(s, l))) return false;
  return true;
}

function isFilterEmpty(f: ForgetFilter | undefined): boolean {
  return !f?.hosts?.length && !f?.paths?.length && !f?.tagLists?.length;
}

/**
 * Decides, then (unless `dryRun`) deletes the snapshot objects to remove. The caller holds the
 * repository lock. Throws USAGE for an empty policy (unless allowed, and then only with a
 * filter), for ids combined with a policy, and for invalid policies or zones; NOT_FOUND and
 * AMBIGUOUS_ID for ids that name no or several snapshots.
 */
export async function runForget(req: ForgetRequest): Promise<ForgetOutcome> {
  const now = req.repo.clock.now();
  const explicit = req.snapshots ?? [];
  const filter = req.filter ?? {};
  if (explicit.length > 0 && !isEmptyPolicy(req.policy))
    throw new HoldfastError('USAGE', 'give either snapshot ids or a --keep-* policy, not both');
  if (explicit.length === 0 && isEmptyPolicy(req.policy)) {
    if (!req.allowRemoveAll)
      throw new HoldfastError('USAGE', 'no policy was specified, no snapshots will be removed', {
        hint: 'give at least one --keep-* option, or snapshot ids to remove',
      });
    if (isFilterEmpty(filter))
      throw new HoldfastError(
        'USAGE',
        '--unsafe-allow-remove-all is not allowed unless a snapshot filter option is specified',
        { hint: 'restrict it with --host, --tag or --path' },
      );
  }
  const all = await req.repo.listSnapshots(req.signal);
  const candidates = all.filter((e) => matchesForgetFilter(e, filter));

  let groups: RetentionGroup<ForgetCandidate>[] = [];
  let remove: SnapshotEntry[];
  if (explicit.length > 0) {
    const found = new Map<string, SnapshotEntry>();
    for (const ref of explicit) {
      const e = findSnapshot(candidates, ref, {});
      found.set(e.id, e);
    }
    remove = [...found.values()];
  } else {
    groups = planRetention(
      candidates.map((entry) => ({
        id: entry.id,
        time: entry.snapshot.time,
        hostname: entry.snapshot.hostname,
        paths: entry.snapshot.paths,
        tags: entry.snapshot.tags ?? [],
        entry,
      })),
      {
        policy: req.policy,
        ...(req.groupBy && { groupBy: req.groupBy }),
        timeZone: req.timeZone,
        now,
        futureSkewMs: DEFAULT_FUTURE_SKEW_MS,
        ...(req.allowRemoveAll && { allowRemoveAll: true }),
      },
    );
    remove = groups.flatMap((g) => g.remove.map((c) => c.entry));
  }
  remove.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));

  const retained: RetainedSnapshot[] = [];
  if (!req.dryRun) {
    for (const e of remove) {
      throwIfAborted(req.signal);
      // Object lock: a snapshot retained until a later date is kept, and reported.
      const { retainedUntil } = await req.repo.deleteObject('snapshot', e.id, req.signal);
      if (retainedUntil) {
        retained.push({ entry: e, until: retainedUntil });
        req.onRetained?.(e.id, retainedUntil);
      } else req.onRemoved?.(e.id);
    }
  }
  const kept = new Set(retained.map((r) => r.entry.id));
  const futureDated = groups.flatMap((g) =>
    g.reasons.filter((r) => r.matches.includes(FUTURE_DATED_REASON)).map((r) => r.snapshot.entry),
  );
  return {
    groups,
    removed: remove.filter((e) => !kept.has(e.id)),
    retained,
    futureDated,
    dryRun: req.dryRun === true,
    now,
  };
}
