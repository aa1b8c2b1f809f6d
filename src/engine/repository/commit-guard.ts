/**
 * The backup side of lock-free prune (repository-format.md, "Deleting data"). A backup reads
 * the index once, at its start; a prune running meanwhile may unindex packs whose blobs the
 * backup then reuses (or packs the backup wrote itself before its snapshot existed). Those packs
 * still exist — the prune waits for this backup's lock session before deleting them — but the
 * new snapshot would not be restorable until they are indexed again. So, just before the
 * snapshot is written, if any index file this backup loaded has been replaced, every blob the
 * snapshot references is looked up in the current index, and the packs of missing ones are
 * indexed again from their own headers.
 */
import { HoldfastError, type BlobId, type IndexId, type PackId } from '../../core/index.js';
import { fileIdOf } from '../crypto/index.js';
import { encodeIndexFile, type IndexedPack } from '../format/index.js';
import { BlobIdSet } from '../index/index.js';
import { readIndexFilesExcept } from './index-files.js';
import { readPackHeader } from './pack-header-reader.js';
import type { Repository } from './repository.js';

/** Returns how many packs were indexed again (0 when no prune replaced index files). */
export async function keepReusedPacksIndexed(
  repo: Repository,
  tree: BlobId,
  signal?: AbortSignal,
  /** Index files this session wrote itself: a prune may have replaced those too. */
  written: readonly string[] = [],
): Promise<number> {
  const ours = new Set<string>([...repo.loadedIndexFiles, ...written]);
  if (!(await replacedSinceLoad(repo, ours, signal))) return 0;
  const files = await repo.readIndexFiles(signal);
  const superseded = new Set<string>(files.flatMap((f) => f.content.supersedes));
  const current = new BlobIdSet();
  for (const f of files) {
    if (superseded.has(f.id)) continue;
    for (const p of f.content.packs) for (const e of p.entries) current.add(e.id);
  }
  const revive = new Set<PackId>();
  const need = (id: BlobId): void => {
    if (current.has(id)) return;
    const loc = repo.index.lookup(id);
    if (!loc) throw new HoldfastError('INTEGRITY', `blob ${id} of the new snapshot is in no index`);
    revive.add(loc.packId);
  };
  const seen = new BlobIdSet();
  const stack: BlobId[] = [tree];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (!seen.add(id)) continue;
    need(id);
    const t = await repo.loadTree(id, signal);
    if ('parts' in t) stack.push(...t.parts);
    else
      for (const n of t.nodes) {
        if (n.subtree) stack.push(n.subtree);
        for (const b of n.content ?? []) need(b);
      }
  }
  if (revive.size === 0) return 0;
  const packs: IndexedPack[] = [];
  for (const packId of revive) {
    const info = await repo.store.stat('pack', packId, signal ? { signal } : {});
    if (!info)
      throw new HoldfastError(
        'INTEGRITY',
        `pack ${packId} that the new snapshot needs was deleted`,
        { hint: 'the snapshot is not written; run the backup again' },
      );
    packs.push({ packId, entries: await readPackHeader(repo, packId, info.size, signal) });
  }
  const bytes = encodeIndexFile(repo.masterKeyForCheck(), { supersedes: [], packs });
  await repo.store.put('index', fileIdOf<IndexId>(bytes), bytes, signal ? { signal } : {});
  return packs.length;
}

/**
 * Whether a prune replaced one of `ours` (index files in effect at the load, and those this
 * session wrote): one is gone, or a file that appeared since supersedes one. Only files that
 * appeared since the load are decoded: a file listed then supersedes none in effect then, and
 * none can name a file written after it. A damaged new file answers yes, so that the caller
 * looks at every file and at every blob (the full rules decide what the damage means).
 */
async function replacedSinceLoad(
  repo: Repository,
  ours: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<boolean> {
  const known = new Set<string>([...repo.listedIndexFiles, ...ours]);
  let update;
  try {
    update = await readIndexFilesExcept(repo.store, repo.masterKeyForCheck(), known, signal);
  } catch (err) {
    const damage =
      err instanceof HoldfastError &&
      (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT');
    if (damage) return true;
    throw err;
  }
  const present = new Set<string>(update.listed);
  if ([...ours].some((id) => !present.has(id))) return true;
  return update.files.some((f) => f.content.supersedes.some((s) => ours.has(s)));
}
