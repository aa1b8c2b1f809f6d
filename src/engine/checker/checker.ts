/**
 * Checker: verifies a repository. Structure: every index file opens, every indexed pack exists,
 * every snapshot opens and every tree and blob it references is resolvable. With `readData`, it
 * downloads packs (all, or a subset), checks each pack's hash against its name, its header
 * against the index, and decrypts and re-hashes every blob (pack-check.ts), on native threads
 * (pack-check-pool.ts: two packs in flight per `workerThreads`); from a local repository the
 * main thread reads the pack files itself. Every damaged object is named, and so are the snapshots and files it
 * affects.
 */
import { tmpdir } from 'node:os';
import {
  describeError,
  HoldfastError,
  isHoldfastError,
  mapLimit,
  throwIfAborted,
  type BlobId,
  type PackId,
  type SnapshotId,
} from '../../core/index.js';
import { fileIdOf } from '../crypto/index.js';
import { openIndexFile, type IndexPlaintext, type IndexRecords } from '../format/index.js';
import type { Repository } from '../repository/index.js';
import { findAffected } from './affected.js';
import { walkSnapshots } from './tree-visitor.js';
import { PackSpool, type SpoolFailed, type SpooledPack } from '../spool/pack-spool.js';
import { PackCheckPool, type PackResult } from './pack-check-pool.js';

export interface CheckOptions {
  readonly repo: Repository;
  readonly readData?: boolean;
  /** Fraction (0,1] of packs to read with readData; packs are chosen at random. */
  readonly readDataSubset?: number;
  /** Threads for readData, two packs in flight each (default: the repository's `workerThreads`). */
  readonly threads?: number;
  /**
   * Where packs read from network storage are spooled for their check worker, in order of
   * preference (PackSpool.open). Default: the system's temporary directory.
   */
  readonly spoolDirs?: readonly string[];
  /** Told about what the check works around (a spool it cannot write). */
  readonly onWarning?: (message: string) => void;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

export interface CheckProblem {
  readonly object: string;
  readonly message: string;
}

export interface CheckResult {
  readonly errors: CheckProblem[];
  readonly warnings: CheckProblem[];
  /** "snapshot <id>: <path>" for every snapshot file or directory touched by damage. */
  readonly affected: string[];
  readonly packsRead: number;
  readonly blobsChecked: number;
  readonly snapshots: number;
}

export async function checkRepository(options: CheckOptions): Promise<CheckResult> {
  const { repo, signal } = options;
  const errors: CheckProblem[] = [];
  const warnings: CheckProblem[] = [];
  const damaged = new Set<string>();
  // Each pack's entries as the index files hold them (46 bytes per blob, not an object each):
  // a pack's objects are made only while it is checked.
  const indexed = new Map<PackId, IndexRecords[]>();

  // 1. Index files, each on its own so one damaged file does not hide the others. Files that a
  // later file supersedes are ignored, as every reader ignores them.
  const indexNames: string[] = [];
  for await (const info of repo.store.list('index', signal ? { signal } : {}))
    indexNames.push(info.name);
  const decoded: { name: string; file: IndexPlaintext }[] = [];
  const unreadable: CheckProblem[] = [];
  await mapLimit(indexNames, 8, async (name) => {
    try {
      const bytes = await repo.store.get('index', name);
      if (fileIdOf(bytes) !== name) throw new Error('content does not match its name');
      decoded.push({ name, file: openIndexFile(repo.masterKeyForCheck(), bytes, `index ${name}`) });
    } catch (err) {
      if (err instanceof HoldfastError && err.code === 'NOT_FOUND') return; // replaced by a prune meanwhile
      unreadable.push({ object: `index ${name}`, message: describeError(err) });
    }
  });
  const superseded = new Set<string>(decoded.flatMap((d) => d.file.supersedes));
  // A damaged file that another supersedes is ignored by every reader: only a warning (on
  // object-locked storage it cannot be deleted before its retention ends).
  for (const u of unreadable) {
    if (superseded.has(u.object.slice('index '.length)))
      warnings.push({ ...u, message: `${u.message} (superseded, ignored)` });
    else errors.push(u);
  }
  const pendingDeletion = new Set<string>();
  for (const { name, file } of decoded) {
    if (superseded.has(name)) continue;
    file.eachPack((packId, records) => {
      const lists = indexed.get(packId);
      if (lists === undefined) indexed.set(packId, [records]);
      else lists.push(records);
    });
    for (const d of file.deletions()) for (const p of d.packs) pendingDeletion.add(p);
  }
  await repo.loadIndex(signal).catch(() => undefined);
  options.onProgress?.({ phase: 'index', done: indexNames.length, total: indexNames.length });

  // 2. Packs: indexed ones must exist; unindexed ones are only wasted space.
  const stored = new Map<string, number>();
  for await (const info of repo.store.list('pack', signal ? { signal } : {}))
    stored.set(info.name, info.size);
  for (const packId of indexed.keys()) {
    if (!stored.has(packId)) {
      errors.push({
        object: `pack ${packId}`,
        message: 'listed in the index but missing from storage',
      });
      addIds(damaged, indexed.get(packId)!);
    }
  }
  for (const name of stored.keys()) {
    if (indexed.has(name as PackId) || pendingDeletion.has(name)) continue;
    warnings.push({
      object: `pack ${name}`,
      message: 'not referenced by any index (run "holdfast repair index" to index it)',
    });
  }

  // 4. Read data (with readData): hash every pack, compare its header to the index, open and
  // verify every blob — on worker threads, while this thread walks the trees (3).
  let packs = [...indexed.keys()].filter((p) => stored.has(p));
  if (options.readDataSubset !== undefined && options.readDataSubset < 1)
    packs = packs.filter(() => Math.random() < options.readDataSubset!);
  const reading = options.readData
    ? readData(options, packs, indexed, damaged)
    : Promise.resolve({ errors: [], packsRead: 0, blobsChecked: 0 });
  // Awaited below; a failure must not count as unhandled while the walk runs.
  reading.catch(() => undefined);

  // 3. Snapshots and the trees and blobs they reference.
  const snapshotNames: SnapshotId[] = [];
  for await (const info of repo.store.list('snapshot', signal ? { signal } : {}))
    snapshotNames.push(info.name as SnapshotId);
  const snapshots: { id: SnapshotId; tree: BlobId }[] = [];
  for (const id of snapshotNames) {
    try {
      snapshots.push({ id, tree: (await repo.loadSnapshot(id, signal)).tree });
    } catch (err) {
      errors.push({ object: `snapshot ${id}`, message: describeError(err) });
    }
  }
  await walkSnapshots(repo, snapshots, {
    ...(signal && { signal }),
    onTreeError: (tree, err) => {
      damaged.add(tree);
      errors.push({ object: `tree ${tree}`, message: describeError(err) });
    },
    onMissingBlob: (blob) => {
      if (damaged.has(blob)) return;
      damaged.add(blob);
      errors.push({
        object: `blob ${blob}`,
        message: 'referenced by a snapshot but not in any index',
      });
    },
  });

  // The read-data problems come after the structural ones, as they did when run one after the other.
  const data = await reading;
  errors.push(...data.errors);
  const { packsRead, blobsChecked } = data;

  const affected = damaged.size > 0 ? await findAffected(repo, snapshots, damaged, signal) : [];
  return { errors, warnings, affected, packsRead, blobsChecked, snapshots: snapshotNames.length };
}

/**
 * Step 4 of checkRepository: every pack read whole and checked on native threads
 * (PackCheckPool, pack-check.ts). Runs while the main thread walks the trees (step 3), so
 * every core works.
 */
async function readData(
  options: CheckOptions,
  packs: readonly PackId[],
  indexed: ReadonlyMap<PackId, readonly IndexRecords[]>,
  damaged: Set<string>,
): Promise<{ errors: CheckProblem[]; packsRead: number; blobsChecked: number }> {
  const { repo, signal } = options;
  const errors: CheckProblem[] = [];
  let packsRead = 0;
  let blobsChecked = 0;
  const pool = new PackCheckPool({
    keys: repo.blobKeys(),
    size: options.threads ?? options.repo.workerThreads,
    ...(signal && { signal }),
  });
  const files = repo.store.files;
  // From network storage each pack is streamed into a spool file that its worker reads like a
  // local pack, instead of sitting in memory (pool.capacity packs at once) until checked.
  const openedSpool =
    files === undefined ? await PackSpool.open(options.spoolDirs ?? [tmpdir()]) : undefined;
  let spool = openedSpool;
  const stopSpooling = (dir: string, err: unknown): void => {
    if (spool === undefined) return;
    spool = undefined;
    options.onWarning?.(
      `cannot write packs to ${dir} (${describeError(err)}); checking them in memory instead`,
    );
  };
  const fetchWhole = async (
    packId: PackId,
    lists: readonly IndexRecords[],
  ): Promise<PackResult> => {
    let bytes: Buffer;
    try {
      bytes = await repo.store.get('pack', packId, undefined, signal ? { signal } : {});
    } catch (err) {
      if (isHoldfastError(err, 'INTERRUPTED')) throw err;
      return { unreadable: describeError(err) };
    }
    return pool.check(packId, lists, { bytes });
  };
  /** Checks a pack through a spool file; undefined when the spool failed (the caller fetches). */
  const viaSpool = async (
    at: PackSpool,
    packId: PackId,
    lists: readonly IndexRecords[],
  ): Promise<PackResult | undefined> => {
    let spooled: SpooledPack | SpoolFailed;
    try {
      spooled = await at.download(repo.store, packId, signal);
    } catch (err) {
      if (isHoldfastError(err, 'INTERRUPTED')) throw err;
      return { unreadable: describeError(err) };
    }
    if ('spoolError' in spooled) {
      stopSpooling(at.dir, spooled.spoolError);
      return undefined;
    }
    try {
      const result = await pool.check(packId, lists, { file: spooled.path });
      // The spool file could not be read back: a problem of this machine, not of the pack.
      return 'unreadable' in result ? undefined : result;
    } finally {
      at.remove(spooled.path);
    }
  };
  const checkOnePack = async (
    packId: PackId,
    lists: readonly IndexRecords[],
  ): Promise<PackResult> => {
    if (files !== undefined) return pool.check(packId, lists, { file: files.path('pack', packId) });
    const at = spool;
    return (at && (await viaSpool(at, packId, lists))) ?? fetchWhole(packId, lists);
  };
  try {
    // As many packs fetched (or named) at once as the checkers hold, so none waits for input.
    await mapLimit(packs, pool.capacity, async (packId) => {
      throwIfAborted(signal);
      const lists = indexed.get(packId)!;
      const result = await checkOnePack(packId, lists);
      if ('outcome' in result) {
        errors.push(...result.outcome.problems);
        for (const id of result.outcome.damaged) damaged.add(id);
        blobsChecked += result.outcome.blobsChecked;
      } else {
        errors.push({ object: `pack ${packId}`, message: `unreadable: ${result.unreadable}` });
        addIds(damaged, lists);
      }
      packsRead++;
      options.onProgress?.({ phase: 'read-data', done: packsRead, total: packs.length });
    });
  } finally {
    await pool.close();
    await openedSpool?.close();
  }
  return { errors, packsRead, blobsChecked };
}

/** Adds the ids of every entry of `lists` to `ids`. */
function addIds(ids: Set<string>, lists: readonly IndexRecords[]): void {
  for (const records of lists) for (let i = 0; i < records.count; i++) ids.add(records.id(i));
}
