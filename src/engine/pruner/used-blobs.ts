/**
 * Reachability: every tree and data blob referenced by a set of snapshots. Any tree that cannot
 * be read aborts the walk — prune must never delete on an incomplete picture of what is used.
 */
import { HoldfastError, throwIfAborted, type BlobId } from '../../core/index.js';
import type { BlobIdSet } from '../index/index.js';
import type { Repository } from '../repository/index.js';

export async function markUsed(
  repo: Repository,
  roots: readonly BlobId[],
  used: BlobIdSet,
  signal?: AbortSignal,
): Promise<void> {
  const stack = roots.filter((t) => used.add(t));
  while (stack.length > 0) {
    throwIfAborted(signal);
    const id = stack.pop()!;
    let tree;
    try {
      tree = await repo.loadTree(id, signal);
    } catch (err) {
      throw new HoldfastError(
        'INTEGRITY',
        `prune stopped: tree ${id} cannot be read, so what is in use is unknown; nothing was deleted`,
        {
          cause: err,
          hint: 'run "holdfast check" and repair the repository first',
        },
      );
    }
    if ('parts' in tree) {
      for (const p of tree.parts) if (used.add(p)) stack.push(p);
      continue;
    }
    for (const node of tree.nodes) {
      if (node.subtree && used.add(node.subtree)) stack.push(node.subtree);
      for (const b of node.content ?? []) used.add(b);
    }
  }
}
