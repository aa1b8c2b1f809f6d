/**
 * The copy use case: copy snapshots from a source repository into a destination repository with
 * its own keys, transferring only what the destination lacks.
 *
 * Identity: a copy records the snapshot it copies in `original` (the source's own `original`
 * when the source is itself a copy, so chains and round trips keep one identity). A source
 * snapshot whose identity — `original` if set, else its id — equals that of any destination
 * snapshot is already there and is skipped, which makes running copy twice copy nothing twice.
 *
 * Order at the destination, per snapshot: packs, then index (the writer's flush), then the
 * snapshot, the commit point. An interrupted copy leaves the snapshots it finished and
 * unreferenced blobs that the next run reuses once indexed.
 */
import { HoldfastError, type SnapshotId } from '../core/index.js';
import {
  keepReusedPacksIndexed,
  Copier,
  type CopyStats,
  type Repository,
  type PackSpool,
  type Snapshot,
  type SnapshotEntry,
  type TreePair,
} from '../engine/index.js';
import { withPackSpool } from './pack-spool-scope.js';

export interface CopyRequest {
  readonly source: Repository;
  readonly destination: Repository;
  /** The source snapshots to copy (all, or the user's selection). */
  readonly snapshots: readonly SnapshotEntry[];
  /** Where data packs for a network destination are filled and uploaded from (withPackSpool). */
  readonly spoolDirs?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: CopyEvent) => void;
}

export type CopyEvent =
  | { readonly type: 'skipped'; readonly source: SnapshotEntry; readonly existing: SnapshotId }
  | { readonly type: 'copying'; readonly source: SnapshotEntry; readonly parent?: SnapshotId }
  | {
      readonly type: 'copied';
      readonly source: SnapshotEntry;
      readonly copy: SnapshotId;
      readonly blobsAdded: number;
      readonly bytesAdded: number;
    };

export interface CopyOutcome {
  readonly copied: readonly { readonly source: SnapshotId; readonly copy: SnapshotId }[];
  readonly skipped: readonly { readonly source: SnapshotId; readonly existing: SnapshotId }[];
  /** True when the repositories share the blob-id key and trees were copied unchanged. */
  readonly sameIds: boolean;
  /** Blobs (data and tree) and their packed bytes written to the destination. */
  readonly blobsAdded: number;
  readonly bytesAdded: number;
  readonly reads: CopyStats;
}

interface Pair {
  readonly source: SnapshotEntry;
  readonly destination: SnapshotEntry;
}

/** The identity copies share: the snapshot originally taken. */
export function snapshotIdentity(entry: SnapshotEntry): SnapshotId {
  return entry.snapshot.original ?? entry.id;
}

export function runCopy(req: CopyRequest): Promise<CopyOutcome> {
  const options = { dirs: req.spoolDirs };
  return withPackSpool(req.destination.store, options, (spool) => copyWith(req, spool));
}

async function copyWith(req: CopyRequest, spool: PackSpool | undefined): Promise<CopyOutcome> {
  const { source, destination, signal } = req;
  if (source.config.id === destination.config.id) {
    throw new HoldfastError('USAGE', 'source and destination are the same repository', {
      hint: 'copy needs two repositories; check --from-repo and --repo',
    });
  }
  await source.loadIndex(signal);
  await destination.loadIndex(signal);
  const sourceAll = await source.listSnapshots(signal);
  const bySourceIdentity = new Map(sourceAll.map((e) => [snapshotIdentity(e), e]));
  const byId = new Map(sourceAll.map((e) => [e.id as string, e]));
  const atDestination = new Map<SnapshotId, SnapshotEntry>();
  const pairs: Pair[] = [];
  const remember = (d: SnapshotEntry) => {
    atDestination.set(snapshotIdentity(d), d);
    const s = bySourceIdentity.get(snapshotIdentity(d));
    if (s) pairs.push({ source: s, destination: d });
  };
  for (const d of await destination.listSnapshots(signal)) remember(d);

  const copier = new Copier({ source, destination, ...(signal && { signal }) });
  const copied: { source: SnapshotId; copy: SnapshotId }[] = [];
  const skipped: { source: SnapshotId; existing: SnapshotId }[] = [];
  let blobsAdded = 0;
  let bytesAdded = 0;
  const ordered = [...req.snapshots].sort(
    (a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id),
  );
  for (const entry of ordered) {
    const existing = atDestination.get(snapshotIdentity(entry));
    if (existing) {
      skipped.push({ source: entry.id, existing: existing.id });
      req.onEvent?.({ type: 'skipped', source: entry, existing: existing.id });
      continue;
    }
    const parent = chooseParent(pairs, entry);
    req.onEvent?.({
      type: 'copying',
      source: entry,
      ...(parent && { parent: parent.destination.id }),
    });
    const writer = destination.writer({ ...(signal && { signal }), ...(spool && { spool }) });
    const parentTrees: TreePair | undefined = parent && {
      source: parent.source.snapshot.tree,
      destination: parent.destination.snapshot.tree,
    };
    const tree = await copier.copyTree(entry.snapshot.tree, writer, parentTrees);
    const stats = await writer.flush();
    const snapshot = copySnapshot(entry, tree, (id) => {
      const s = byId.get(id);
      return s && atDestination.get(snapshotIdentity(s))?.id;
    });
    // A prune running beside the copy may have unindexed blobs the copy reused (see commit-guard).
    await keepReusedPacksIndexed(destination, tree, signal, stats.indexesWritten);
    const id = await destination.saveSnapshot(snapshot, signal);
    remember({ id, snapshot });
    const added = stats.dataBlobs + stats.treeBlobs;
    blobsAdded += added;
    bytesAdded += stats.dataAddedPacked;
    copied.push({ source: entry.id, copy: id });
    req.onEvent?.({
      type: 'copied',
      source: entry,
      copy: id,
      blobsAdded: added,
      bytesAdded: stats.dataAddedPacked,
    });
  }
  return { copied, skipped, sameIds: copier.sameIds, blobsAdded, bytesAdded, reads: copier.stats };
}

/**
 * The source snapshot as its copy: same fields, the destination's tree, `original` set, and
 * `parent` pointing at the destination's copy of the parent (dropped when there is none).
 */
function copySnapshot(
  entry: SnapshotEntry,
  tree: Snapshot['tree'],
  parentCopy: (source: SnapshotId) => SnapshotId | undefined,
): Snapshot {
  const { parent, ...rest } = entry.snapshot;
  const mappedParent = parent && parentCopy(parent);
  return {
    ...rest,
    tree,
    original: snapshotIdentity(entry),
    ...(mappedParent && { parent: mappedParent }),
  };
}

/**
 * The committed copy to compare against: the latest of the same host and paths taken no later
 * than `entry`, else the latest of the same host and paths. Any pair is correct (the copier
 * reuses only entries it can match exactly); a close one saves the most reads.
 */
function chooseParent(pairs: readonly Pair[], entry: SnapshotEntry): Pair | undefined {
  const key = (s: Snapshot) => `${s.hostname}\0${[...s.paths].sort().join('\0')}`;
  const same = pairs
    .filter((p) => key(p.source.snapshot) === key(entry.snapshot))
    .sort((a, b) => Date.parse(a.source.snapshot.time) - Date.parse(b.source.snapshot.time));
  const time = Date.parse(entry.snapshot.time);
  const earlier = same.filter((p) => Date.parse(p.source.snapshot.time) <= time);
  return earlier[earlier.length - 1] ?? same[same.length - 1];
}
