/**
 * Reading trees: `treeNodes` yields a directory's nodes in name order, following tree parts,
 * holding one part in memory at a time.
 */
import type { BlobId } from '../../core/index.js';
import type { Node } from '../format/index.js';
import type { Repository } from './repository.js';

export async function* treeNodes(
  repo: Repository,
  treeId: BlobId,
  signal?: AbortSignal,
): AsyncGenerator<Node> {
  const tree = await repo.loadTree(treeId, signal);
  if ('parts' in tree) {
    for (const part of tree.parts) yield* treeNodes(repo, part, signal);
  } else {
    yield* tree.nodes;
  }
}

/** Tree ids a tree blob references directly: its parts, or its nodes' subtrees. */
export async function treeChildren(
  repo: Repository,
  treeId: BlobId,
  signal?: AbortSignal,
): Promise<{ trees: BlobId[]; nodes: Node[] }> {
  const tree = await repo.loadTree(treeId, signal);
  if ('parts' in tree) return { trees: [...tree.parts], nodes: [] };
  const trees: BlobId[] = [];
  for (const n of tree.nodes) if (n.subtree) trees.push(n.subtree);
  return { trees, nodes: [...tree.nodes] };
}

/** Finds the node at `path` (components as raw bytes) below `treeId`; undefined if absent. */
export async function findNode(
  repo: Repository,
  treeId: BlobId,
  components: readonly Buffer[],
  signal?: AbortSignal,
): Promise<Node | undefined> {
  let current: BlobId | undefined = treeId;
  let found: Node | undefined;
  for (const name of components) {
    if (!current) return undefined;
    found = undefined;
    for await (const n of treeNodes(repo, current, signal)) {
      if (n.name.equals(name)) {
        found = n;
        break;
      }
    }
    if (!found) return undefined;
    current = found.subtree;
  }
  return found;
}
