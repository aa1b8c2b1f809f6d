/**
 * Adding a repository's Index files to the master index (repository-format.md §10, §17): the
 * files in effect in full, read in place from their plaintext; superseded ones only as
 * alternative locations. Entries that contradict the master index's (type or length) are
 * returned as conflicts, for the repository to settle by reading.
 */
import type { BlobId, PackId } from '../../core/index.js';
import type { PackEntry, PendingDeletion } from '../format/index.js';
import {
  contradicts,
  sameLocation,
  type AlternativeLocations,
  type BlobLocation,
  type MasterIndex,
} from '../index/index.js';
import type { OpenedIndexFile } from './index-files.js';

export interface AddedIndexFiles {
  /** Files in effect: none of the others supersedes them. */
  readonly inEffect: readonly string[];
  /** Files some file supersedes. */
  readonly superseded: ReadonlySet<string>;
  readonly deletions: readonly PendingDeletion[];
  readonly treePacks: Set<string>;
  /** Blobs whose entries disagree about type or length. */
  readonly conflicts: Set<BlobId>;
}

export function addIndexFiles(
  files: readonly OpenedIndexFile[],
  index: MasterIndex,
  alternatives: AlternativeLocations,
): AddedIndexFiles {
  const superseded = new Set<string>();
  for (const f of files) for (const s of f.content.supersedes) superseded.add(s);
  const inEffect = files.filter((f) => !superseded.has(f.id));
  const conflicts = new Set<BlobId>();
  const treePacks = new Set<string>();
  const deletions: PendingDeletion[] = [];
  const noteAlternative = (packId: PackId, entry: PackEntry, first: BlobLocation): void => {
    const location: BlobLocation = { ...entry, packId };
    if (sameLocation(location, first)) return;
    alternatives.add(entry.id, location);
    if (contradicts(location, first)) conflicts.add(entry.id);
  };

  index.reserve(
    inEffect.reduce((n, f) => n + f.content.entryCount, 0),
    inEffect.reduce((n, f) => n + f.content.packCount, 0),
  );
  for (const f of inEffect) {
    f.content.eachPack((packId, records) => {
      // A pack holds blobs of one type (§9): its first entry says which.
      if (records.count > 0 && records.type(0) === 'tree') treePacks.add(packId);
      index.addPackRecords(packId, records, (e, first) => noteAlternative(packId, e, first));
    });
    deletions.push(...f.content.deletions());
  }
  // Superseded files remain fallbacks for reading: a superseding index file that is damaged
  // or forged must not hide a blob an original index file locates (threat-model.md).
  for (const f of files) {
    if (!superseded.has(f.id)) continue;
    for (const p of f.content.decode().packs) {
      for (const e of p.entries) {
        const first = index.lookup(e.id);
        if (first) noteAlternative(p.packId, e, first);
        else alternatives.add(e.id, { ...e, packId: p.packId });
      }
    }
  }
  return { inEffect: inEffect.map((f) => f.id), superseded, deletions, treePacks, conflicts };
}
