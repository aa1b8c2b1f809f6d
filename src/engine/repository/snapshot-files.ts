/**
 * Reading Snapshot files (repository-format.md, "Snapshots"): each checked against its SHA-256
 * name, opened and validated; the listing in time order.
 */
import { HoldfastError, isHoldfastError, mapLimit, type SnapshotId } from '../../core/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { fileIdOf } from '../crypto/index.js';
import { openJson, validateSnapshot, type Snapshot } from '../format/index.js';

export interface SnapshotEntry {
  readonly id: SnapshotId;
  readonly snapshot: Snapshot;
}

export async function readSnapshot(
  store: ObjectStore,
  masterKey: Buffer,
  id: SnapshotId,
  signal?: AbortSignal,
): Promise<Snapshot> {
  const bytes = await store.get('snapshot', id, undefined, signal ? { signal } : {});
  if (fileIdOf(bytes) !== id)
    throw new HoldfastError('INTEGRITY', `snapshot ${id}: content does not match its name`);
  return validateSnapshot(
    openJson(masterKey, 'snapshot', bytes, `snapshot ${id}`),
    `snapshot ${id}`,
  );
}

/** All snapshots, oldest first. */
export async function readSnapshots(
  store: ObjectStore,
  masterKey: Buffer,
  signal?: AbortSignal,
): Promise<SnapshotEntry[]> {
  const ids: SnapshotId[] = [];
  for await (const info of store.list('snapshot', signal ? { signal } : {}))
    ids.push(info.name as SnapshotId);
  const loaded = await mapLimit(ids, 16, async (id) => {
    try {
      return { id, snapshot: await readSnapshot(store, masterKey, id, signal) };
    } catch (err) {
      // Deleted (forget) between the listing and the read: a listing a moment later would not
      // have it either.
      if (isHoldfastError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  });
  const entries = loaded.filter((e): e is SnapshotEntry => e !== undefined);
  return entries.sort(
    (a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id),
  );
}
