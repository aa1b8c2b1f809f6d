/**
 * Walks every tree reachable from a set of snapshots once, reporting what cannot be resolved.
 * Up to TREE_LOADS trees are loaded at once; the handlers are called from one thread, in no
 * particular order.
 */
import { throwIfAborted, type BlobId, type SnapshotId } from '../../core/index.js';
import type { Repository } from '../repository/index.js';

export interface WalkHandlers {
  readonly signal?: AbortSignal;
  onTreeError(tree: BlobId, err: unknown): void;
  onMissingBlob(blob: BlobId): void;
}

/** Trees loaded at once: the walk waits on storage (and on decryption), not on one tree at a time. */
export const TREE_LOADS = 16;

export async function walkSnapshots(
  repo: Repository,
  snapshots: readonly { id: SnapshotId; tree: BlobId }[],
  h: WalkHandlers,
): Promise<void> {
  const seen = new Set<string>();
  const stack: BlobId[] = snapshots.map((s) => s.tree);
  const loading = new Set<Promise<void>>();
  const visit = async (tree: BlobId): Promise<void> => {
    let loaded;
    try {
      loaded = await repo.loadTree(tree, h.signal);
    } catch (err) {
      h.onTreeError(tree, err);
      return;
    }
    if ('parts' in loaded) {
      stack.push(...loaded.parts);
      return;
    }
    for (const node of loaded.nodes) {
      if (node.subtree) stack.push(node.subtree);
      for (const blob of node.content ?? []) {
        if (!seen.has(blob) && repo.index.lookup(blob)?.type !== 'data') {
          seen.add(blob);
          h.onMissingBlob(blob);
        }
      }
    }
  };
  while (stack.length > 0 || loading.size > 0) {
    throwIfAborted(h.signal);
    while (stack.length > 0 && loading.size < TREE_LOADS) {
      const tree = stack.pop()!;
      if (seen.has(tree)) continue;
      seen.add(tree);
      if (repo.index.lookup(tree)?.type !== 'tree') {
        h.onMissingBlob(tree);
        continue;
      }
      const load: Promise<void> = visit(tree).finally(() => loading.delete(load));
      loading.add(load);
    }
    if (loading.size > 0) await Promise.race(loading);
  }
}
