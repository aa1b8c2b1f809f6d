/**
 * AlternativeLocations: where else index files say a blob is, besides the location the master
 * index keeps (repository-format.md, "Reading and verification"). Two sources:
 * - duplicates: another entry for an indexed blob (a copy in another pack written by a
 *   concurrent backup, or an entry from a damaged or forged index file);
 * - superseded index files: their entries for blobs no current index file locates, or locates
 *   elsewhere.
 * Readers fall back to these when the first location does not verify, so an extra index file —
 * damaged, or forged by a client that can add objects but not delete them — can cost a retry
 * but never hide a blob that an original index file still locates. Writers never deduplicate
 * against alternatives: a blob only they locate may sit in a pack prune is deleting.
 *
 * Memory: only entries that differ from the master index's are kept (about 150 B each): none in
 * a repository without duplicates or superseded index files.
 */
import type { BlobId } from '../../core/index.js';
import type { BlobLocation } from './master-index.js';

export class AlternativeLocations {
  private readonly byId = new Map<BlobId, BlobLocation[]>();

  get size(): number {
    return this.byId.size;
  }

  /** Records `location` unless it is already recorded for `id`. */
  add(id: BlobId, location: BlobLocation): void {
    const list = this.byId.get(id);
    if (!list) {
      this.byId.set(id, [location]);
      return;
    }
    if (!list.some((l) => sameLocation(l, location))) list.push(location);
  }

  get(id: BlobId): readonly BlobLocation[] {
    return this.byId.get(id) ?? [];
  }

  /** Replaces what is recorded for `id` (after a conflict was resolved). */
  set(id: BlobId, locations: readonly BlobLocation[]): void {
    if (locations.length === 0) this.byId.delete(id);
    else this.byId.set(id, [...locations]);
  }
}

/** The same entry: same place and same description of what is there. */
export function sameLocation(a: BlobLocation, b: BlobLocation): boolean {
  return (
    a.packId === b.packId &&
    a.offset === b.offset &&
    a.length === b.length &&
    a.type === b.type &&
    a.rawLength === b.rawLength &&
    a.compression === b.compression
  );
}

/** Two entries that cannot both be right: a blob id fixes its type and plaintext length. */
export function contradicts(a: BlobLocation, b: BlobLocation): boolean {
  return a.type !== b.type || a.rawLength !== b.rawLength;
}
