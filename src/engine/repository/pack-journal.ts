/**
 * The pack journal (repository-format.md §2.5): a writer's note, in the local cache directory, of
 * the packs it uploaded (or began to: a put whose answer was lost may have stored its pack) but
 * no index lists yet, and the step that indexes such packs at the start of a later session.
 *
 * Why: a backup writes an index after every 32 packs and at its end. When storage goes away for
 * longer than the retries last, or the process dies, the packs uploaded since the last index are
 * in the repository but in no index, so the next backup would upload their blobs again ("repair
 * index" finds them, but only by reading every pack's header). The journal names them, so the next
 * session on this machine can index them with one `stat` per pack.
 */
import { randomBytes } from 'node:crypto';
import type { IndexId } from '../../core/index.js';
import type { CacheDirectory, ObjectStore } from '../../storage/index.js';
import { fileIdOf } from '../crypto/index.js';
import { decodeIndexFile, encodeIndexFile, type IndexedPack } from '../format/index.js';
import type { MasterIndex } from '../index/index.js';
import type { PackJournal } from './blob-writer.js';

/** A journal in `directory` under a fresh name; writes happen one after another, in call order. */
export function cacheJournal(directory: CacheDirectory): PackJournal {
  const name = randomBytes(32).toString('hex');
  let last: Promise<void> = Promise.resolve();
  const then = (step: () => Promise<void>): Promise<void> => (last = last.then(step));
  return {
    record: (bytes) => then(() => directory.writeJournal(name, bytes)),
    clear: () => then(() => directory.removeJournal(name)),
  };
}

export interface AdoptOptions {
  readonly directory: CacheDirectory;
  readonly store: ObjectStore;
  readonly masterKey: Buffer;
  readonly index: MasterIndex;
  /** Packs named by a pending deletion: a prune is deleting them, they are not adopted. */
  readonly pendingPacks: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

/**
 * Indexes the packs that journals left in the cache list, when they exist in the repository and
 * no index lists them, and removes the journals. Returns how many packs were adopted. A journal
 * that does not decode (another repository's key, damage) is removed without effect.
 *
 * Safe beside other writers and prune: a pack's name is its content hash, so a pack that exists
 * holds exactly the noted blobs; indexing a pack twice is harmless (the first location wins); and
 * a pack a prune is deleting is left alone. Once indexed, an adopted pack is like any other whose
 * blobs a backup reuses (§13.1 rule 9 keeps it indexed up to the snapshot).
 */
export async function adoptJournaledPacks(options: AdoptOptions): Promise<number> {
  const { directory, store, index, signal } = options;
  let adopted = 0;
  for (const journal of await directory.journals()) {
    let packs: readonly IndexedPack[];
    try {
      packs = decodeIndexFile(
        options.masterKey,
        journal.bytes,
        `pack journal ${journal.name}`,
      ).packs;
    } catch {
      await directory.removeJournal(journal.name);
      continue;
    }
    const present: IndexedPack[] = [];
    for (const pack of packs) {
      if (index.hasPack(pack.packId) || options.pendingPacks.has(pack.packId)) continue;
      const info = await store.stat('pack', pack.packId, signal ? { signal } : {});
      const bytes = pack.entries.reduce((sum, e) => sum + e.length, 0);
      if (info && info.size > bytes) present.push(pack);
    }
    if (present.length > 0) {
      const file = encodeIndexFile(options.masterKey, { supersedes: [], packs: present });
      await store.put('index', fileIdOf<IndexId>(file), file, signal ? { signal } : {});
      for (const pack of present) index.addPack(pack.packId, pack.entries);
      adopted += present.length;
    }
    await directory.removeJournal(journal.name);
  }
  return adopted;
}
