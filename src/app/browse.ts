/** Read-only views of snapshots: ls, diff, dump, stats. */
import type { Writable } from 'node:stream';
import { HoldfastError, type BlobId } from '../core/index.js';
import {
  findNode,
  treeNodes,
  type Node,
  type Repository,
  type SnapshotEntry,
} from '../engine/index.js';

export interface ListedNode {
  readonly path: string;
  readonly node: Node;
}

function splitPath(path: string): Buffer[] {
  return path
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => Buffer.from(p));
}

/** Every node below `under` (default the root), depth-first in name order. */
export async function* listSnapshot(
  repo: Repository,
  snap: SnapshotEntry,
  under = '/',
  recursive = true,
  signal?: AbortSignal,
): AsyncGenerator<ListedNode> {
  await repo.loadIndex(signal);
  const parts = splitPath(under);
  let tree: BlobId | undefined = snap.snapshot.tree;
  const base = parts.length ? '/' + parts.map((p) => p.toString()).join('/') : '';
  if (parts.length > 0) {
    const node = await findNode(repo, snap.snapshot.tree, parts, signal);
    if (!node)
      throw new HoldfastError(
        'NOT_FOUND',
        `path ${under} is not in snapshot ${snap.id.slice(0, 8)}`,
      );
    yield { path: base, node };
    tree = node.subtree;
  }
  if (tree) yield* walk(repo, tree, base, recursive, signal);
}

async function* walk(
  repo: Repository,
  tree: BlobId,
  base: string,
  recursive: boolean,
  signal?: AbortSignal,
): AsyncGenerator<ListedNode> {
  for await (const node of treeNodes(repo, tree, signal)) {
    const path = `${base}/${node.name.toString()}`;
    yield { path, node };
    if (recursive && node.subtree) yield* walk(repo, node.subtree, path, recursive, signal);
  }
}

export type DiffChange = '+' | '-' | 'M' | 'T' | 'U';

export interface DiffItem {
  readonly change: DiffChange;
  readonly path: string;
}

/** Differences between two snapshots, restic's markers: + added, - removed, M content, T type, U metadata. */
export async function* diffSnapshots(
  repo: Repository,
  a: SnapshotEntry,
  b: SnapshotEntry,
  signal?: AbortSignal,
): AsyncGenerator<DiffItem> {
  await repo.loadIndex(signal);
  yield* diffTrees(repo, a.snapshot.tree, b.snapshot.tree, '', signal);
}

async function collect(
  repo: Repository,
  tree: BlobId | undefined,
  signal?: AbortSignal,
): Promise<Map<string, Node>> {
  const map = new Map<string, Node>();
  if (tree)
    for await (const n of treeNodes(repo, tree, signal)) map.set(n.name.toString('latin1'), n);
  return map;
}

async function* diffTrees(
  repo: Repository,
  ta: BlobId | undefined,
  tb: BlobId | undefined,
  base: string,
  signal?: AbortSignal,
): AsyncGenerator<DiffItem> {
  if (ta === tb) return;
  const [ma, mb] = [await collect(repo, ta, signal), await collect(repo, tb, signal)];
  const names = [...new Set([...ma.keys(), ...mb.keys()])].sort((x, y) =>
    Buffer.compare(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')),
  );
  for (const key of names) {
    const na = ma.get(key);
    const nb = mb.get(key);
    const path = `${base}/${Buffer.from(key, 'latin1').toString()}`;
    if (!na) {
      yield { change: '+', path: nb!.type === 'dir' ? path + '/' : path };
      if (nb!.subtree) yield* diffTrees(repo, undefined, nb!.subtree, path, signal);
    } else if (!nb) {
      yield { change: '-', path: na.type === 'dir' ? path + '/' : path };
      if (na.subtree) yield* diffTrees(repo, na.subtree, undefined, path, signal);
    } else if (na.type !== nb.type) {
      yield { change: 'T', path };
    } else if (na.type === 'dir') {
      if (metadataDiffers(na, nb)) yield { change: 'U', path: path + '/' };
      yield* diffTrees(repo, na.subtree, nb.subtree, path, signal);
    } else if (
      (na.content ?? []).join() !== (nb.content ?? []).join() ||
      !sameBytes(na.linkTarget, nb.linkTarget)
    ) {
      yield { change: 'M', path };
    } else if (metadataDiffers(na, nb)) {
      yield { change: 'U', path };
    }
  }
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}

function metadataDiffers(a: Node, b: Node): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.mtimeNs !== b.mtimeNs;
}

/** Writes one file's content to `out`, blob by blob (memory: one blob). */
export async function dumpFile(
  repo: Repository,
  snap: SnapshotEntry,
  path: string,
  out: Writable,
  signal?: AbortSignal,
): Promise<void> {
  await repo.loadIndex(signal);
  const node = await findNode(repo, snap.snapshot.tree, splitPath(path), signal);
  if (!node)
    throw new HoldfastError('NOT_FOUND', `path ${path} is not in snapshot ${snap.id.slice(0, 8)}`);
  if (node.type !== 'file')
    throw new HoldfastError('USAGE', `${path} is a ${node.type}, not a file`, {
      hint: 'dump writes one file; use restore for directories',
    });
  for (const id of node.content ?? []) {
    const data = await repo.loadBlob('data', id, signal);
    if (!out.write(data)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
}

export interface RepositoryStats {
  total_size: number;
  total_file_count: number;
  snapshots_count: number;
  total_blob_count: number;
  total_uncompressed_size: number;
  total_packed_size: number;
  compression_ratio: number;
}

/** Restore size (sum of file sizes over the snapshots) and raw deduplicated size (unique blobs). */
export async function repositoryStats(
  repo: Repository,
  snaps: readonly SnapshotEntry[],
  signal?: AbortSignal,
): Promise<RepositoryStats> {
  await repo.loadIndex(signal);
  const seenTrees = new Set<string>();
  const seenBlobs = new Set<string>();
  const stats: RepositoryStats = {
    total_size: 0,
    total_file_count: 0,
    snapshots_count: snaps.length,
    total_blob_count: 0,
    total_uncompressed_size: 0,
    total_packed_size: 0,
    compression_ratio: 1,
  };
  const countBlob = (id: BlobId): void => {
    if (seenBlobs.has(id)) return;
    seenBlobs.add(id);
    const loc = repo.index.lookup(id);
    if (!loc) return;
    stats.total_blob_count++;
    stats.total_uncompressed_size += loc.rawLength;
    stats.total_packed_size += loc.length;
  };
  for (const s of snaps) {
    for await (const { node } of walk(repo, s.snapshot.tree, '', true, signal)) {
      if (node.type === 'file') {
        stats.total_size += node.size ?? 0;
        stats.total_file_count++;
        for (const id of node.content ?? []) countBlob(id);
      }
      if (node.subtree && !seenTrees.has(node.subtree)) {
        seenTrees.add(node.subtree);
        countBlob(node.subtree);
      }
    }
    countBlob(s.snapshot.tree);
  }
  stats.compression_ratio =
    stats.total_packed_size > 0 ? stats.total_uncompressed_size / stats.total_packed_size : 1;
  return stats;
}
