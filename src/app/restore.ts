/** The restore use case: pick the snapshot, select paths by include/exclude, restore, report. */
import {
  Restorer,
  type Node,
  type Repository,
  type RestoreResult,
  type SnapshotEntry,
} from '../engine/index.js';

export type PathTest = (path: string, isDir: boolean) => boolean;

export interface RestoreRequest {
  readonly repo: Repository;
  readonly snapshot: SnapshotEntry;
  readonly target: string;
  readonly include?: PathTest;
  readonly exclude?: PathTest;
  readonly verify?: boolean;
  /** Where packs downloaded whole are spooled (RestoreOptions.spoolDirs). */
  readonly spoolDirs?: readonly string[];
  readonly onWarning?: (message: string) => void;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { files: number; bytes: number; path: string }) => void;
}

export async function runRestore(req: RestoreRequest): Promise<RestoreResult> {
  const { include, exclude } = req;
  await req.repo.loadIndex(req.signal);
  const select = (
    path: string,
    node: Node,
    underSelected: boolean,
  ): 'restore' | 'skip' | 'descend' => {
    const isDir = node.type === 'dir';
    if (exclude?.(path, isDir)) return 'skip';
    if (underSelected || !include || include(path, isDir)) return 'restore';
    return isDir ? 'descend' : 'skip';
  };
  const restorer = new Restorer({
    repo: req.repo,
    tree: req.snapshot.snapshot.tree,
    target: req.target,
    ...((include || exclude) && { select }),
    ...(req.verify && { verify: true }),
    ...(req.spoolDirs && { spoolDirs: req.spoolDirs }),
    ...(req.onWarning && { onWarning: req.onWarning }),
    owner: process.getuid?.() === 0,
    ...(req.signal && { signal: req.signal }),
    ...(req.onProgress && { onProgress: req.onProgress }),
  });
  return restorer.restore();
}
