/**
 * Pruner: removes data no snapshot references, without stopping backups and without trusting
 * clocks (repository-format.md, "Deleting data"). In short:
 *
 * 1. Mark every blob reachable from the snapshots.
 * 2. Repack mostly-unused packs (new packs and index first); unindex unused and repacked packs
 *    by writing replacement index files, then a marker that supersedes the old files and records
 *    a pending deletion with the UNKNOWN session.
 * 3. List the lock sessions alive now and rewrite the marker with them. Any backup that could
 *    still use the old index is among them: a backup takes its lock before reading the index.
 * 4. A pending deletion is carried out only when none of its sessions is alive any more; then
 *    snapshots are listed again, and a pack holding a blob that a new snapshot uses is put back
 *    into the index (resurrected) instead of being deleted.
 *
 * A crash at any step leaves superseding files durable before anything they replace is deleted,
 * so readers always find a complete index; the next prune finishes the job.
 */
import {
  describeError,
  HoldfastError,
  throwIfAborted,
  type BlobId,
  type IndexId,
  type PackId,
  type SnapshotId,
} from '../../core/index.js';
import { fileIdOf } from '../crypto/index.js';
import {
  decodeIndexFile,
  decodePackHeader,
  encodeIndexFile,
  type IndexedPack,
  type IndexFileContent,
  type PackEntry,
  type PendingDeletion,
} from '../format/index.js';
import { BlobIdSet } from '../index/index.js';
import { isDeadOnThisHost, listLocks } from '../lock/index.js';
import { readPackHeader, type IndexFile, type Repository } from '../repository/index.js';
import { planPrune, type PackStats, type PrunePlan } from './prune-plan.js';
import { markUsed } from './used-blobs.js';

/** Session placeholder: "who might still use the old index is not yet recorded". */
export const UNKNOWN_SESSION = 'ff'.repeat(16);
const PACKS_PER_INDEX = 1000;

export interface PruneOptions {
  readonly repo: Repository;
  /** The prune's own lock session: never waits for itself. */
  readonly session: string;
  readonly maxUnused?: number;
  readonly maxRepackBytes?: number;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: string) => void;
}

export interface PruneResult {
  readonly plan: PrunePlan;
  readonly dryRun: boolean;
  readonly deletedPacks: number;
  readonly freedBytes: number;
  readonly resurrectedPacks: number;
  readonly repackedBlobs: number;
  /** Packs unindexed but not yet deletable, because these sessions may still use them. */
  readonly waitingPacks: number;
  readonly waitingFor: string[];
  /** Object lock: unindexed packs kept because they are retained; a later prune deletes them. */
  readonly retainedPacks?: number;
  /** The latest retain-until date among them. */
  readonly retainedUntil?: Date;
}

export async function prune(options: PruneOptions): Promise<PruneResult> {
  const { repo, signal } = options;
  const opt = signal ? { signal } : {};
  const progress = options.onProgress ?? (() => undefined);

  // Snapshots are listed before the index is read: a backup writes its index before its
  // snapshot, so every tree a listed snapshot needs is in the index read afterwards.
  const snapshotIds = await listSnapshotIds(repo, signal);
  progress('reading the index');
  const files = await repo.readIndexFiles(signal);
  const superseded = new Set<string>(files.flatMap((f) => f.content.supersedes));
  const effective = files.filter((f) => !superseded.has(f.id));
  // Files whose superseding file is durable but which a crashed prune did not delete yet.
  for (const f of files)
    if (superseded.has(f.id) && !options.dryRun) await repo.deleteObject('index', f.id, signal);
  // Not repo.loadIndex(): it may have been loaded before the snapshots were listed.
  for (const f of effective)
    for (const p of f.content.packs) repo.index.addPack(p.packId, p.entries);
  // A snapshot committed just after an earlier prune unindexed its packs can reference trees
  // only a pending pack still holds: make those packs readable (never counted as present).
  const indexedPacks = new Set<string>(
    effective.flatMap((f) => f.content.packs.map((p) => p.packId)),
  );
  const pendingOnly = new Set<string>();
  for (const d of effective.flatMap((f) => f.content.deletions ?? [])) {
    for (const packId of d.packs) {
      if (indexedPacks.has(packId) || pendingOnly.has(packId)) continue;
      const entries = await readHeader(repo, packId, signal);
      if (!entries) continue;
      pendingOnly.add(packId);
      repo.index.addPack(packId, entries);
    }
  }

  repo.index.compactIfLarge();
  progress('finding data in use');
  const used = new BlobIdSet();
  await markUsed(repo, await snapshotTrees(repo, snapshotIds, signal), used, signal);

  const stats = new Map<PackId, PackStats>();
  const pending = effective.flatMap((f) => f.content.deletions ?? []);
  const pendingPacks = new Set<string>(pending.flatMap((d) => d.packs));
  for (const f of effective) {
    for (const p of f.content.packs) {
      if (stats.has(p.packId)) continue;
      const s: PackStats = {
        packId: p.packId,
        file: f.id,
        blobs: 0,
        usedBlobs: 0,
        bytes: 0,
        usedBytes: 0,
      };
      for (const e of p.entries) {
        s.blobs++;
        s.bytes += e.length;
        // The first copy of a used blob counts as used; later copies (duplicates) are waste.
        if (used.has(e.id) && !used.testAndSetFlag(e.id)) {
          s.usedBlobs++;
          s.usedBytes += e.length;
        }
      }
      stats.set(p.packId, s);
    }
  }
  const orphans: PackId[] = [];
  for await (const o of repo.store.list('pack', opt)) {
    if (!stats.has(o.name as PackId) && !pendingPacks.has(o.name)) orphans.push(o.name as PackId);
  }
  const plan = planPrune(stats.values(), orphans, {
    maxUnused: options.maxUnused ?? 0.05,
    maxRepackBytes: options.maxRepackBytes ?? Number.MAX_SAFE_INTEGER,
  });
  const base = { plan, deletedPacks: 0, freedBytes: 0, resurrectedPacks: 0, repackedBlobs: 0 };
  if (options.dryRun) {
    return {
      ...base,
      dryRun: true,
      waitingPacks: plan.remove.length + plan.repack.length + orphans.length + pendingPacks.size,
      waitingFor: [],
    };
  }

  const removed = new Set<string>([...plan.remove, ...plan.repack]);
  // Dedup view for repacking: a blob counts as present only in packs that stay.
  // The master index keeps the first location of a duplicate, which may be a removed pack, so
  // blobs written by this prune are tracked on their own.
  const rewritten = new BlobIdSet();
  const view = {
    has: (id: BlobId) => {
      if (rewritten.has(id)) return true;
      const loc = repo.index.lookup(id);
      return loc !== undefined && !removed.has(loc.packId) && !pendingOnly.has(loc.packId);
    },
    addPack: (packId: PackId, entries: readonly PackEntry[]) => {
      for (const e of entries) rewritten.add(e.id);
      repo.index.addPack(packId, entries);
    },
  };

  progress('repacking');
  const writer = repo.writer({ index: view, ...(signal && { signal }) });
  let repackedBlobs = 0;
  for (const packId of plan.repack) {
    throwIfAborted(signal);
    const bytes = await repo.store.get('pack', packId, undefined, opt);
    if (fileIdOf(bytes) !== packId)
      throw new HoldfastError(
        'INTEGRITY',
        `prune stopped: pack ${packId} is damaged; nothing was deleted`,
        { hint: 'run "holdfast check --read-data"' },
      );
    for (const e of decodePackHeader(
      repo.masterKeyForCheck(),
      bytes,
      bytes.length,
      `pack ${packId}`,
    )) {
      if (!used.has(e.id) || view.has(e.id)) continue;
      const plain = repo.decodeBlob(
        e.type,
        e.id,
        bytes.subarray(e.offset, e.offset + e.length),
        e.compression,
        e.rawLength,
        `pack ${packId}`,
      );
      if ((await writer.save(e.type, plain, e.id)).added) repackedBlobs++;
    }
  }
  await writer.flush();

  progress('rewriting the index');
  // Every file that lists a removed pack or carries pending deletions is replaced: its kept packs
  // are rewritten, its deletions merged into the new marker. So no deletion record outlives the
  // run that superseded it, and no pack is named by two records.
  const affected = effective.filter(
    (f) =>
      f.content.packs.some((p) => removed.has(p.packId)) || (f.content.deletions?.length ?? 0) > 0,
  );
  const kept = affected.flatMap((f) => f.content.packs.filter((p) => !removed.has(p.packId)));
  for (let i = 0; i < kept.length; i += PACKS_PER_INDEX) {
    await putIndex(repo, { supersedes: [], packs: kept.slice(i, i + PACKS_PER_INDEX) }, signal);
  }
  const fresh = new Set<string>([...removed, ...orphans]);
  // A pack being unindexed again belongs to the new record only (its new sessions must end).
  const older = pending
    .map((d) => ({ packs: d.packs.filter((p) => !fresh.has(p)), sessions: d.sessions }))
    .filter((d) => d.packs.length > 0);
  let deletions: PendingDeletion[] = [
    ...older,
    ...(fresh.size ? [{ packs: [...fresh] as PackId[], sessions: [UNKNOWN_SESSION] }] : []),
  ];
  const replaced = affected.map((f) => f.id);
  let marker: IndexId | undefined;
  if (replaced.length > 0 || deletions.length > 0) {
    marker = await putIndex(repo, { supersedes: replaced, packs: [], deletions }, signal);
  }

  // Step 3: record who may still hold the old index.
  const alive = await aliveSessions(repo, options.session);
  deletions = deletions.map((d) =>
    d.sessions.includes(UNKNOWN_SESSION) ? { packs: d.packs, sessions: [...alive] } : d,
  );
  if (marker)
    marker = await replaceMarker(
      repo,
      marker,
      { supersedes: [...replaced, marker], packs: [], deletions },
      signal,
    );
  // Object lock: a retained file stays until its date; superseded, it is ignored meanwhile.
  for (const id of replaced) await repo.deleteObject('index', id, signal);

  progress('deleting');
  const outcome = await carryOut(repo, deletions, alive, used, new Set(snapshotIds), view, signal);
  if (marker) {
    if (outcome.resurrected.length > 0 || outcome.remaining.length > 0) {
      await replaceMarker(
        repo,
        marker,
        { supersedes: [marker], packs: outcome.resurrected, deletions: outcome.remaining },
        signal,
      );
    } else {
      // Nothing left to record: the marker's superseded files are gone, so it has no job left.
      await repo.deleteObject('index', marker, signal);
    }
  }
  return {
    ...base,
    dryRun: false,
    repackedBlobs,
    deletedPacks: outcome.deleted,
    freedBytes: outcome.freed,
    resurrectedPacks: outcome.resurrected.length,
    waitingPacks: outcome.remaining.reduce((n, d) => n + d.packs.length, 0),
    waitingFor: [...new Set(outcome.remaining.flatMap((d) => d.sessions))],
    ...(outcome.retained.length > 0 && {
      retainedPacks: outcome.retained.length,
      retainedUntil: new Date(Math.max(...outcome.retained.map((r) => r.until.getTime()))),
    }),
  };
}

async function carryOut(
  repo: Repository,
  deletions: PendingDeletion[],
  alive: Set<string>,
  used: BlobIdSet,
  knownSnapshots: Set<SnapshotId>,
  view: { has(id: BlobId): boolean },
  signal?: AbortSignal,
): Promise<{
  deleted: number;
  freed: number;
  resurrected: IndexedPack[];
  remaining: PendingDeletion[];
  retained: { packId: PackId; until: Date }[];
}> {
  const opt = signal ? { signal } : {};
  const ready = deletions.filter((d) => !d.sessions.some((s) => alive.has(s)));
  const remaining = deletions.filter((d) => d.sessions.some((s) => alive.has(s)));
  // Belt and braces: a pack a waiting record names is never deleted through another record.
  const waiting = new Set<string>(remaining.flatMap((d) => d.packs));
  let deleted = 0;
  let freed = 0;
  const resurrected: IndexedPack[] = [];
  const retained: { packId: PackId; until: Date }[] = [];
  if (ready.length === 0) return { deleted, freed, resurrected, remaining, retained };
  // Snapshots written since we marked (by backups that have finished since) may use these packs.
  const now = await listSnapshotIds(repo, signal);
  const freshSnapshots = now.filter((id) => !knownSnapshots.has(id));
  const indexedNow = await refreshIndex(repo, signal);
  await markUsed(repo, await snapshotTrees(repo, freshSnapshots, signal), used, signal);
  for (const d of ready) {
    for (const packId of d.packs) {
      throwIfAborted(signal);
      if (indexedNow.has(packId) || waiting.has(packId)) continue; // re-indexed meanwhile, or still awaited
      const info = await repo.store.stat('pack', packId, opt);
      if (!info) continue;
      // Object lock: a retained pack is not even read; it waits, unindexed, for a later prune.
      const until = await repo.retainedUntil('pack', packId, signal);
      if (until) {
        retained.push({ packId, until });
        continue;
      }
      let entries: PackEntry[] | undefined;
      try {
        const bytes = await repo.store.get('pack', packId, undefined, opt);
        entries = decodePackHeader(repo.masterKeyForCheck(), bytes, bytes.length, `pack ${packId}`);
      } catch (err) {
        // Only a damaged pack may go unexamined (nothing in it can be restored anyway); a storage
        // failure stops the prune before it deletes anything else.
        if (!(
          err instanceof HoldfastError &&
          (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT')
        ))
          throw err;
        entries = undefined;
      }
      if (entries?.some((e) => used.has(e.id) && !view.has(e.id))) {
        resurrected.push({ packId, entries });
        continue;
      }
      const { retainedUntil } = await repo.deleteObject('pack', packId, signal);
      if (retainedUntil) {
        retained.push({ packId, until: retainedUntil });
        continue;
      }
      deleted++;
      freed += info.size;
    }
  }
  // Waiting for nobody: the next prune deletes them once their retention has ended.
  if (retained.length > 0) remaining.push({ packs: retained.map((r) => r.packId), sessions: [] });
  return { deleted, freed, resurrected, remaining, retained };
}

/** Sessions of live lock holders other than ourselves (dead holders on this host excluded). */
async function aliveSessions(repo: Repository, own: string): Promise<Set<string>> {
  const alive = new Set<string>();
  for (const l of await listLocks(repo)) {
    // An unreadable lock may belong to a running backup: count it as an unknown holder (it
    // blocks deletions until "unlock" removes it). So do locks without a session.
    if (!l.info) {
      alive.add(UNKNOWN_SESSION);
      continue;
    }
    if (l.info.session === own || isDeadOnThisHost(l.info)) continue;
    alive.add(l.info.session ?? UNKNOWN_SESSION);
  }
  return alive;
}

/**
 * Reads the index again (after listing snapshots, for the same reason as at the start), adds
 * what concurrent backups indexed meanwhile to the master index, and returns every indexed pack.
 */
async function refreshIndex(repo: Repository, signal?: AbortSignal): Promise<Set<string>> {
  const files: IndexFile[] = await repo.readIndexFiles(signal);
  const superseded = new Set<string>(files.flatMap((f) => f.content.supersedes));
  const packs = new Set<string>();
  for (const f of files) {
    if (superseded.has(f.id)) continue;
    for (const p of f.content.packs) {
      packs.add(p.packId);
      repo.index.addPack(p.packId, p.entries);
    }
  }
  return packs;
}

async function listSnapshotIds(repo: Repository, signal?: AbortSignal): Promise<SnapshotId[]> {
  const ids: SnapshotId[] = [];
  for await (const o of repo.store.list('snapshot', signal ? { signal } : {}))
    ids.push(o.name as SnapshotId);
  return ids;
}

async function snapshotTrees(
  repo: Repository,
  ids: readonly SnapshotId[],
  signal?: AbortSignal,
): Promise<BlobId[]> {
  const trees: BlobId[] = [];
  for (const id of ids) {
    try {
      trees.push((await repo.loadSnapshot(id, signal)).tree);
    } catch (err) {
      if (err instanceof HoldfastError && err.code === 'NOT_FOUND') continue; // forgotten meanwhile
      throw new HoldfastError(
        'INTEGRITY',
        `prune stopped: snapshot ${id} cannot be read (${describeError(err)}); nothing was deleted`,
        {
          cause: err,
          hint: 'run "holdfast check"',
        },
      );
    }
  }
  return trees;
}

async function putIndex(
  repo: Repository,
  content: IndexFileContent,
  signal?: AbortSignal,
): Promise<IndexId> {
  const bytes = encodeIndexFile(repo.masterKeyForCheck(), content);
  const id = fileIdOf<IndexId>(bytes);
  await repo.store.put('index', id, bytes, signal ? { signal } : {});
  return id;
}

/** Writes a marker superseding `old`, then deletes `old` (the new one is durable first). */
async function replaceMarker(
  repo: Repository,
  old: IndexId,
  content: IndexFileContent,
  signal?: AbortSignal,
): Promise<IndexId> {
  const id = await putIndex(repo, content, signal);
  await repo.deleteObject('index', old, signal);
  return id;
}

export function decodeIndexForPrune(
  repo: Repository,
  bytes: Buffer,
  name: string,
): IndexFileContent {
  return decodeIndexFile(repo.masterKeyForCheck(), bytes, `index ${name}`);
}

/** A pack's header entries, or undefined when the pack is gone or damaged. */
async function readHeader(
  repo: Repository,
  packId: PackId,
  signal?: AbortSignal,
): Promise<PackEntry[] | undefined> {
  const opt = signal ? { signal } : {};
  const info = await repo.store.stat('pack', packId, opt);
  if (!info) return undefined;
  try {
    return await readPackHeader(repo, packId, info.size, signal);
  } catch (err) {
    if (
      err instanceof HoldfastError &&
      (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT')
    )
      return undefined;
    throw err;
  }
}
