/**
 * The backup use case: choose the parent snapshot, archive the targets (or a stream), flush
 * packs and index, then write the snapshot — the commit point. An interrupted or failed backup
 * writes no snapshot; what it uploaded stays unreferenced. Packs already listed in an index file
 * (written every 32 packs) are reused by the next backup; the rest is re-uploaded, and the
 * leftovers are removed by prune.
 */
import { userInfo } from 'node:os';
import { lstat } from 'node:fs/promises';
import { HoldfastError, throwIfAborted, type SnapshotId } from '../core/index.js';
import {
  Archiver,
  encodeTree,
  newCounters,
  saveStream,
  ChunkerPool,
  summaryFrom,
  keepReusedPacksIndexed,
  loadWalkCache,
  saveWalkCache,
  targetTree,
  walkContext,
  WalkRecorder,
  type WalkCache,
  type BackupEvent,
  type Node,
  type PackSpool,
  type ProblemItem,
  type Repository,
  type Snapshot,
  type SnapshotEntry,
} from '../engine/index.js';
import { accountFilesDigest, commandStream } from '../sources/index.js';
import { withPackSpool } from './pack-spool-scope.js';
import { VERSION } from './version.js';

export interface StdinSource {
  readonly filename: string;
  /** The stream, or a command whose standard output is the stream. */
  readonly stream?: AsyncIterable<Buffer>;
  readonly command?: readonly string[];
}

export interface BackupRequest {
  readonly repo: Repository;
  readonly paths: readonly string[];
  readonly stdin?: StdinSource;
  readonly hostname: string;
  readonly tags?: readonly string[];
  readonly time?: Date;
  readonly exclude?: (path: Buffer, isDir: boolean) => boolean;
  readonly excludePatterns?: readonly string[];
  readonly excludeCaches?: boolean;
  readonly oneFileSystem?: boolean;
  readonly dryRun?: boolean;
  /** Snapshot to use as parent instead of the latest matching one. */
  readonly parent?: SnapshotEntry | 'none';
  /**
   * Where walk caches live (one file per snapshot, engine/archiver/walk-cache.ts); none when
   * undefined. Only used when the exclusions are known as patterns (`excludePatterns`).
   */
  readonly walkCacheDir?: string;
  /**
   * Where data packs for network storage are filled and uploaded from, in order of preference
   * (withPackSpool: the first on a disk is used). Default: the system's temporary directory.
   * Without one (all are memory file systems, none writable) the packs are held in memory.
   */
  readonly spoolDirs?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: BackupEvent) => void;
}

export interface BackupOutcome {
  /** Undefined for a dry run. */
  readonly snapshotId: SnapshotId | undefined;
  readonly snapshot: Snapshot;
  readonly errors: readonly ProblemItem[];
  readonly warnings: readonly ProblemItem[];
  readonly durationSeconds: number;
}

export async function runBackup(req: BackupRequest): Promise<BackupOutcome> {
  const options = { dirs: req.spoolDirs, dryRun: req.dryRun };
  return withPackSpool(req.repo.store, options, (spool) => backUp(req, spool));
}

async function backUp(req: BackupRequest, spool: PackSpool | undefined): Promise<BackupOutcome> {
  const { repo, signal } = req;
  const start = repo.clock.now();
  await repo.loadIndex(signal);
  if (!req.dryRun) {
    // Packs an earlier backup on this machine uploaded but could not index (storage outage,
    // crash): indexed now, so their blobs are not uploaded again.
    const adopted = await repo.adoptJournaledPacks(signal);
    if (adopted > 0)
      repo.logger.info(`indexed ${adopted} packs an interrupted earlier backup had uploaded`);
  }
  const writer = repo.writer({
    ...(signal && { signal }),
    ...(req.dryRun && { dryRun: true }),
    ...(spool && { spool }),
  });

  let tree;
  let paths: string[];
  let counters = newCounters();
  let errors: ProblemItem[] = [];
  let warnings: ProblemItem[] = [];
  let parentId: SnapshotId | undefined;
  let walk: Walk | undefined;
  if (req.stdin) {
    ({ tree, counters } = await backupStream(repo, writer, req.stdin, start, signal));
    paths = [`/${req.stdin.filename}`];
  } else {
    if (req.paths.length === 0)
      throw new HoldfastError('USAGE', 'nothing to back up', {
        hint: 'name one or more paths, or use --stdin',
      });
    await requireSomeTarget(req.paths);
    const parent =
      req.parent === 'none'
        ? undefined
        : (req.parent ?? (await findParent(repo, req.hostname, req.paths, signal)));
    parentId = parent?.id;
    walk = await openWalk(req, parentId);
    const archiver = new Archiver({
      repo,
      writer,
      ...(parent && { parentTree: parent.snapshot.tree }),
      ...(walk?.cache && { walkCache: walk.cache }),
      ...(walk && { walkRecorder: walk.recorder }),
      ...(req.exclude && { exclude: req.exclude }),
      ...(req.excludeCaches && { excludeCaches: true }),
      ...(req.oneFileSystem && { oneFileSystem: true }),
      ...(signal && { signal }),
      ...(req.onEvent && { onEvent: req.onEvent }),
    });
    const result = await archiver.archive(req.paths);
    ({ tree, counters, errors, warnings } = result);
    paths = result.targets;
  }
  const stats = await writer.flush();
  const end = repo.clock.now();
  const user = userInfo();
  const snapshot: Snapshot = {
    time: (req.time ?? start).toISOString(),
    tree,
    paths,
    hostname: req.hostname,
    username: user.username,
    uid: user.uid,
    gid: user.gid,
    ...(req.tags?.length && { tags: [...req.tags] }),
    ...(req.excludePatterns?.length && { excludes: [...req.excludePatterns] }),
    ...(parentId && { parent: parentId }),
    ...(errors.length > 0 && { partial: true }),
    program_version: `holdfast ${VERSION}`,
    summary: summaryFrom(counters, stats, start, end),
  };
  let snapshotId: SnapshotId | undefined;
  if (!req.dryRun) {
    await keepReusedPacksIndexed(repo, tree, signal, stats.indexesWritten);
    snapshotId = await repo.saveSnapshot(snapshot, signal);
    if (walk)
      await saveWalkCache(walk.dir, repo, snapshotId, walk.context, walk.recorder, parentId, (m) =>
        repo.logger.warn(m),
      );
  }
  return {
    snapshotId,
    snapshot,
    errors,
    warnings,
    durationSeconds: (end.getTime() - start.getTime()) / 1000,
  };
}

interface Walk {
  readonly dir: string;
  readonly context: Buffer;
  readonly cache: WalkCache | undefined;
  readonly recorder: WalkRecorder;
}

/**
 * The walk cache of the parent snapshot, and a recorder for this backup's. None for a dry run
 * (no snapshot to record for) or when the exclusions are a predicate without patterns: the
 * cache must know everything that shapes the trees.
 */
async function openWalk(
  req: BackupRequest,
  parentId: SnapshotId | undefined,
): Promise<Walk | undefined> {
  const dir = req.walkCacheDir;
  if (dir === undefined || req.dryRun || (req.exclude && !req.excludePatterns)) return undefined;
  const context = walkContext({
    program: VERSION,
    targets: targetTree(req.paths).targets,
    excludePatterns: req.excludePatterns ?? [],
    excludeCaches: req.excludeCaches === true,
    oneFileSystem: req.oneFileSystem === true,
    accounts: await accountFilesDigest(),
  });
  const cache =
    parentId === undefined
      ? undefined
      : await loadWalkCache(dir, req.repo, parentId, context, (m) => req.repo.logger.warn(m));
  return { dir, context, cache, recorder: new WalkRecorder() };
}

/** Fails when no target exists at all: there is nothing to snapshot (a missing one among others is a partial backup). */
async function requireSomeTarget(paths: readonly string[]): Promise<void> {
  const found = await Promise.all(
    paths.map((p) =>
      lstat(p).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (!found.some(Boolean)) {
    throw new HoldfastError(
      'SOURCE_UNAVAILABLE',
      `none of the paths to back up exist: ${paths.join(', ')}`,
      { hint: 'check the paths; no snapshot was written' },
    );
  }
}

/** The latest snapshot of the same host and the same set of paths: its files need not be read again. */
export async function findParent(
  repo: Repository,
  hostname: string,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<SnapshotEntry | undefined> {
  const wanted = targetTree(paths).targets.join('\0');
  const all = await repo.listSnapshots(signal);
  const now = repo.clock.now().toISOString();
  // Never take a future-dated snapshot (clock skew, forgery) as parent.
  return all
    .filter(
      (e) =>
        e.snapshot.hostname === hostname &&
        [...e.snapshot.paths].sort().join('\0') === wanted &&
        e.snapshot.time <= now,
    )
    .at(-1);
}

async function backupStream(
  repo: Repository,
  writer: ReturnType<Repository['writer']>,
  source: StdinSource,
  start: Date,
  signal: AbortSignal | undefined,
): Promise<{ tree: Snapshot['tree']; counters: ReturnType<typeof newCounters> }> {
  if (source.filename.length === 0 || source.filename.includes('/')) {
    throw new HoldfastError('USAGE', `invalid --stdin-filename "${source.filename}"`, {
      hint: 'use a plain file name without "/"',
    });
  }
  const command = source.command ? commandStream(source.command, signal) : undefined;
  const stream = command?.output ?? source.stream;
  if (!stream) throw new HoldfastError('USAGE', 'no stream to back up');
  const chunkers = new ChunkerPool(repo.chunkerKey, repo.chunkerParams);
  let saved;
  try {
    saved = await saveStream(stream, {
      writer,
      chunkers,
      repo,
      ...(signal && { signal }),
    });
    await command?.completed; // a failing command must not produce a snapshot
  } catch (err) {
    command?.kill();
    // Stopping the command on an interrupt makes it fail too: report the interrupt (exit 130).
    throwIfAborted(signal);
    throw err;
  }
  const user = userInfo();
  const nowNs = BigInt(start.getTime()) * 1_000_000n;
  const node: Node = {
    name: Buffer.from(source.filename),
    type: 'file',
    mode: 0o644,
    uid: user.uid,
    gid: user.gid,
    user: user.username,
    mtimeNs: nowNs,
    atimeNs: nowNs,
    ctimeNs: nowNs,
    inode: 0n,
    deviceId: 0n,
    links: 1,
    size: saved.bytes,
    content: saved.content,
  };
  const tree = (await writer.save('tree', encodeTree({ nodes: [node] }))).id;
  const counters = newCounters();
  counters.filesNew = 1;
  counters.filesDone = 1;
  counters.bytesDone = saved.bytes;
  return { tree, counters };
}
