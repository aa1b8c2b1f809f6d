/**
 * `repair index`: rebuilds the index from the packs alone (every pack describes itself). New
 * index files are written first and supersede all old ones; only then are the old ones deleted,
 * so a crash at any point leaves a readable index.
 */
import {
  describeError,
  isHoldfastError,
  mapLimit,
  type IndexId,
  type PackId,
} from '../core/index.js';
import {
  encodeIndexFile,
  fileIdOf,
  readPackHeader,
  type IndexedPack,
  type IndexFileContent,
  type Repository,
} from '../engine/index.js';

export interface RepairResult {
  readonly packs: number;
  readonly blobs: number;
  readonly unreadable: { pack: string; message: string }[];
  readonly indexesWritten: number;
  readonly indexesRemoved: number;
}

const PACKS_PER_INDEX = 1000;

export async function repairIndex(
  repo: Repository,
  signal?: AbortSignal,
  onProgress?: (done: number, total: number) => void,
): Promise<RepairResult> {
  const opt = signal ? { signal } : {};
  const oldIndexes: IndexId[] = [];
  for await (const i of repo.store.list('index', opt)) oldIndexes.push(i.name as IndexId);
  const packs: { name: string; size: number }[] = [];
  for await (const p of repo.store.list('pack', opt)) packs.push(p);
  const unreadable: { pack: string; message: string }[] = [];
  let done = 0;
  const indexed = await mapLimit(packs, 8, async (p): Promise<IndexedPack | undefined> => {
    try {
      const entries = await readPackHeader(repo, p.name as PackId, p.size, signal);
      return { packId: p.name as PackId, entries };
    } catch (err) {
      // Only damage may leave a pack out; a storage hiccup must abort before old indexes go.
      if (!isHoldfastError(err, 'INTEGRITY') && !isHoldfastError(err, 'UNSUPPORTED_FORMAT'))
        throw err;
      unreadable.push({ pack: p.name, message: describeError(err) });
      return undefined;
    } finally {
      onProgress?.(++done, packs.length);
    }
  });
  const good = indexed.filter((x): x is IndexedPack => x !== undefined);
  // New index files first, superseding nothing; then one small marker that supersedes every old
  // file at once. A crash before the marker leaves old and new side by side (duplicates are
  // harmless); after it, readers see exactly the new view.
  let written = 0;
  for (let i = 0; i < good.length; i += PACKS_PER_INDEX) {
    await putIndex(repo, { supersedes: [], packs: good.slice(i, i + PACKS_PER_INDEX) }, opt);
    written++;
  }
  if (oldIndexes.length > 0) {
    await putIndex(repo, { supersedes: oldIndexes, packs: [] }, opt);
    written++;
  }
  // Locked old files stay (superseded, so ignored) until their retention ends.
  let removed = 0;
  for (const old of oldIndexes)
    if (!(await repo.deleteObject('index', old, signal)).retainedUntil) removed++;
  return {
    packs: good.length,
    blobs: good.reduce((n, p) => n + p.entries.length, 0),
    unreadable,
    indexesWritten: written,
    indexesRemoved: removed,
  };
}

async function putIndex(
  repo: Repository,
  content: IndexFileContent,
  opt: { signal?: AbortSignal },
): Promise<void> {
  const bytes = encodeIndexFile(repo.masterKeyForCheck(), content);
  try {
    await repo.store.put('index', fileIdOf<IndexId>(bytes), bytes, opt);
  } catch (err) {
    if (!isHoldfastError(err, 'OBJECT_EXISTS')) throw err;
  }
}
