/**
 * TreePacks: whole tree packs held in memory while trees are read, for every reader of trees
 * (restore, backup's parent trees, ls, check, prune's reachability walk, copy).
 *
 * Why: a command that walks a snapshot reads thousands of tree blobs that sit next to each
 * other in a few packs, since a backup writes its trees together. Read one by one they are
 * thousands of ranged reads — an open or pread each on a local repository, a request each on
 * S3 or a repository server. Without the local cache (`--no-cache`, or another machine's first
 * run with an unwritable cache) a kernel-tree restore from S3 spent 189 s, 90 % of it waiting
 * for such requests one after another.
 *
 * Policy: the first tree read from a pack is a ranged read; a second tree from the same pack
 * fetches the whole pack, and later trees are cut from it. At most KEPT_PACKS packs are held
 * (least recently used goes first), so memory stays below KEPT_PACKS × pack size; repositories
 * with packs above MAX_PACK_SIZE always use ranged reads. A whole pack is kept only if its
 * SHA-256 is its name, and every blob cut from it is still authenticated and checked against
 * its id by the caller (Repository.loadBlob, with its fallbacks to other locations).
 *
 * Only where ranged reads are not preads of files on this machine: a local repository (its
 * files kept open, LocalStore) or a writable local cache (which holds every tree pack and keeps
 * the ones it reads open, CacheDirectory) serves each tree with one pread, and a held pack cost
 * 5–15 MiB of a kernel-tree restore's or check's peak (docs/benchmarks-history.md, part U). A cache
 * whose writes failed may lack packs, and its misses go to the repository: packs are held again.
 */
import type { PackId } from '../../core/index.js';
import { rangePastEnd, type ObjectStore } from '../../storage/index.js';
import { fileIdOf } from '../crypto/index.js';
import type { BlobLocation } from '../index/index.js';

const KEPT_PACKS = 2;
const MAX_PACK_SIZE = 32 * 1024 * 1024;

export class TreePacks {
  /** Whole packs (undefined: the download did not match its name), most recently used last. */
  private readonly kept = new Map<PackId, Promise<Buffer | undefined>>();
  private readonly seen = new Set<PackId>();
  /** Packs whose download did not match their name: read by ranges from then on. */
  private readonly rangedOnly = new Set<PackId>();

  constructor(
    private readonly store: ObjectStore,
    private readonly packSize: number,
    /** Whether ranged reads of tree packs are preads of local files (asked per read). */
    private readonly rangesAreLocal: () => boolean = () => false,
  ) {}

  /**
   * The sealed bytes of the tree blob at `loc`, cut from a held pack; undefined when the caller
   * should read the range itself (the pack's first tree, packs too large, a bad download).
   */
  async read(loc: BlobLocation, signal?: AbortSignal): Promise<Buffer | undefined> {
    if (this.packSize > MAX_PACK_SIZE || this.rangesAreLocal()) return undefined;
    const pack = this.packFor(loc.packId, signal);
    const bytes = pack && (await pack);
    if (bytes === undefined) return undefined;
    const end = loc.offset + loc.length;
    if (end > bytes.length)
      throw rangePastEnd(
        'pack',
        loc.packId,
        { offset: loc.offset, length: loc.length },
        bytes.length,
      );
    return bytes.subarray(loc.offset, end);
  }

  /** Drops a pack that was deleted, so its memory goes at once. */
  forget(packId: PackId): void {
    this.kept.delete(packId);
    this.seen.delete(packId);
  }

  private packFor(packId: PackId, signal?: AbortSignal): Promise<Buffer | undefined> | undefined {
    const held = this.kept.get(packId);
    if (held !== undefined) {
      // Map iteration order is insertion order: re-inserting makes it the most recent.
      this.kept.delete(packId);
      this.kept.set(packId, held);
      return held;
    }
    if (!this.seen.has(packId) || this.rangedOnly.has(packId)) {
      this.seen.add(packId);
      return undefined;
    }
    const pack = this.fetch(packId, signal);
    this.kept.set(packId, pack);
    while (this.kept.size > KEPT_PACKS) this.kept.delete(this.kept.keys().next().value!);
    return pack;
  }

  private async fetch(packId: PackId, signal?: AbortSignal): Promise<Buffer | undefined> {
    let bytes: Buffer;
    try {
      bytes = await this.store.get('pack', packId, undefined, signal ? { signal } : {});
    } catch (err) {
      // Not held: each tree then reads (and fails, or warns) on its own.
      this.kept.delete(packId);
      throw err;
    }
    if (fileIdOf(bytes) === packId) return bytes;
    // A damaged download or object: ranged reads let each blob succeed or fail on its own.
    this.kept.delete(packId);
    this.rangedOnly.add(packId);
    return undefined;
  }
}
