/** Walks every tree reachable from a set of snapshots once, reporting what cannot be resolved. */
import { throwIfAborted, type BlobId, type SnapshotId } from '../../core/index.js';
import type { Repository } from '../repository/index.js';

export interface WalkHandlers {
  readonly signal?: AbortSignal;
  onTreeError(tree: BlobId, err: unknown): void;
  onMissingBlob(blob: BlobId): void;
}

export async function walkSnapshots(
  repo: Repository,
  snapshots: readonly { id: SnapshotId; tree: BlobId }[],
  h: WalkHandlers,
): Promise<void> {
  const seen = new Set<string>();
  const stack: BlobId[] = snapshots.map((s) => s.tree);
  while (stack.length > 0) {
    throwIfAborted(h.signal);
    const tree = stack.pop()!;
    if (seen.has(tree)) continue;
    seen.add(tree);
    if (repo.index.lookup(tree)?.type !== 'tree') {
      h.onMissingBlob(tree);
      continue;
    }
    let loaded;
    try {
      loaded = await repo.loadTree(tree, h.signal);
    } catch (err) {
      h.onTreeError(tree, err);
      continue;
    }
    if ('parts' in loaded) {
      stack.push(...loaded.parts);
      continue;
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
  }
}
