/**
 * A snapshot made of streams: each file's content comes from a stream (a dump program's output, a
 * WAL file), saved in order, then trees and the snapshot — written last, the commit point. A
 * stream that fails (a dump program exiting non-zero) fails the whole snapshot before it is
 * written. Database facts go into the snapshot's `meta` (repository-format.md, "Snapshots").
 */
import { userInfo } from 'node:os';
import { HoldfastError, type BlobId, type SnapshotId } from '../../core/index.js';
import {
  keepReusedPacksIndexed,
  ChunkerPool,
  compareNames,
  encodeTree,
  newCounters,
  saveStream,
  summaryFrom,
  type Node,
  type PackSpool,
  type Repository,
  type Snapshot,
} from '../../engine/index.js';
import { withPackSpool } from '../pack-spool-scope.js';
import { VERSION } from '../version.js';

export interface StreamFile {
  /** Absolute path inside the snapshot, e.g. /pg_wal/000000010000000000000003. */
  readonly path: string;
  /** Called when this file's turn comes, so that a program starts only then. */
  readonly content: () => AsyncIterable<Buffer>;
}

export interface StreamSnapshotRequest {
  readonly repo: Repository;
  readonly files: readonly StreamFile[];
  readonly hostname: string;
  readonly tags: readonly string[];
  /** Evaluated after every stream ended, so it may use what the streams revealed. */
  readonly meta: () => Record<string, string>;
  readonly time?: Date;
  /** Where data packs are filled and uploaded from (BackupRequest.spoolDirs). */
  readonly spoolDirs?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onBytes?: (n: number) => void;
}

export interface SavedSnapshot {
  readonly id: SnapshotId;
  readonly snapshot: Snapshot;
}

interface DirEntry {
  readonly dirs: Map<string, DirEntry>;
  readonly files: Node[];
}

/** Files are created with mode 0600: database content is as private as the database. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export function saveStreamSnapshot(req: StreamSnapshotRequest): Promise<SavedSnapshot> {
  return withPackSpool(req.repo.store, { dirs: req.spoolDirs }, (spool) => saveWith(req, spool));
}

async function saveWith(
  req: StreamSnapshotRequest,
  spool: PackSpool | undefined,
): Promise<SavedSnapshot> {
  const { repo, signal } = req;
  const start = repo.clock.now();
  await repo.loadIndex(signal);
  const writer = repo.writer({ ...(signal && { signal }), ...(spool && { spool }) });
  const chunkers = new ChunkerPool(repo.chunkerKey, repo.chunkerParams);
  const user = userInfo();
  const root: DirEntry = { dirs: new Map(), files: [] };
  const counters = newCounters();
  const nowNs = BigInt(start.getTime()) * 1_000_000n;
  const base = {
    uid: user.uid,
    gid: user.gid,
    user: user.username,
    mtimeNs: nowNs,
    atimeNs: nowNs,
    ctimeNs: nowNs,
    inode: 0n,
    deviceId: 0n,
    links: 1,
  };
  for (const file of req.files) {
    const parts = file.path.split('/').filter((p) => p.length > 0);
    const name = parts.pop();
    if (name === undefined) throw new HoldfastError('USAGE', `invalid path ${file.path}`);
    let dir = root;
    for (const p of parts) {
      let next = dir.dirs.get(p);
      if (!next) dir.dirs.set(p, (next = { dirs: new Map(), files: [] }));
      dir = next;
    }
    const saved = await saveStream(file.content(), {
      writer,
      chunkers,
      repo,
      ...(signal && { signal }),
      ...(req.onBytes && { onBytes: req.onBytes }),
    });
    dir.files.push({
      ...base,
      name: Buffer.from(name),
      type: 'file',
      mode: FILE_MODE,
      size: saved.bytes,
      content: saved.content,
    });
    counters.filesNew++;
    counters.filesDone++;
    counters.bytesDone += saved.bytes;
  }
  const meta = req.meta();
  const saveDir = async (dir: DirEntry): Promise<BlobId> => {
    const nodes: Node[] = [...dir.files];
    for (const [name, sub] of dir.dirs) {
      nodes.push({
        ...base,
        name: Buffer.from(name),
        type: 'dir',
        mode: DIR_MODE,
        subtree: await saveDir(sub),
      });
      counters.dirsNew++;
    }
    nodes.sort((a, b) => compareNames(a.name, b.name));
    return (await writer.save('tree', encodeTree({ nodes }))).id;
  };
  const tree = await saveDir(root);
  const stats = await writer.flush();
  const end = repo.clock.now();
  const snapshot: Snapshot = {
    time: (req.time ?? start).toISOString(),
    tree,
    paths: req.files.map((f) => f.path).sort(),
    hostname: req.hostname,
    username: user.username,
    uid: user.uid,
    gid: user.gid,
    ...(req.tags.length > 0 && { tags: [...req.tags] }),
    meta,
    program_version: `holdfast ${VERSION}`,
    summary: summaryFrom(counters, stats, start, end),
  };
  await keepReusedPacksIndexed(repo, tree, signal, stats.indexesWritten);
  const id = await repo.saveSnapshot(snapshot, signal);
  return { id, snapshot };
}
