/** Names the snapshot files and directories that depend on damaged blobs. */
import { type BlobId, type SnapshotId } from '../../core/index.js';
import type { Repository } from '../repository/index.js';

export async function findAffected(
  repo: Repository,
  snapshots: readonly { id: SnapshotId; tree: BlobId }[],
  damaged: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  for (const s of snapshots) {
    const visit = async (tree: BlobId, path: string): Promise<void> => {
      if (damaged.has(tree)) {
        out.push(`snapshot ${s.id.slice(0, 8)}: ${path || '/'} (directory listing damaged)`);
        return;
      }
      let loaded;
      try {
        loaded = await repo.loadTree(tree, signal);
      } catch {
        out.push(`snapshot ${s.id.slice(0, 8)}: ${path || '/'} (directory listing unreadable)`);
        return;
      }
      if ('parts' in loaded) {
        for (const p of loaded.parts) await visit(p, path);
        return;
      }
      for (const n of loaded.nodes) {
        const p = `${path}/${n.name.toString()}`;
        if (n.subtree) await visit(n.subtree, p);
        if (n.content?.some((b) => damaged.has(b))) out.push(`snapshot ${s.id.slice(0, 8)}: ${p}`);
      }
    };
    await visit(s.tree, '');
  }
  return out;
}
