/**
 * TreeReader: reads the parent snapshot's tree blobs for the archiver, fetching whole tree packs
 * once they prove useful. An unchanged backup reads every tree of its parent: thousands of ranged
 * reads (an open, a read and a close each on a local repository, a request each on S3) of blobs
 * that sit next to each other in a few tree packs, since a backup writes its trees together.
 *
 * Policy: the first tree from a pack is a ranged read; a second tree from the same pack fetches
 * the whole pack, and later trees are cut from it. At most CACHED_PACKS packs are held (least
 * recently used goes first), so memory stays below CACHED_PACKS × pack size; repositories with
 * packs above MAX_CACHED_PACK_SIZE always use ranged reads. Every blob is still authenticated
 * and checked against its id (Repository.decodeBlob).
 */
import { HoldfastError, type BlobId, type PackId } from '../../core/index.js';
import { decodeTree, type Tree } from '../format/index.js';
import type { Repository } from '../repository/index.js';

const CACHED_PACKS = 2;
const MAX_CACHED_PACK_SIZE = 32 * 1024 * 1024;

export class TreeReader {
  private readonly packs = new Map<PackId, Promise<Buffer>>();
  private readonly seen = new Set<PackId>();

  constructor(
    private readonly repo: Repository,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async load(id: BlobId): Promise<Tree> {
    const loc = this.repo.index.lookup(id);
    if (!loc || loc.type !== 'tree' || this.repo.config.pack_size > MAX_CACHED_PACK_SIZE)
      return this.repo.loadTree(id, this.signal);
    const pack = this.cachedPack(loc.packId);
    if (pack === undefined) return this.repo.loadTree(id, this.signal);
    const bytes = await pack;
    const end = loc.offset + loc.length;
    if (end > bytes.length)
      throw new HoldfastError('INTEGRITY', `tree blob ${id}: beyond the end of pack ${loc.packId}`);
    const plain = this.repo.decodeBlob(
      'tree',
      id,
      bytes.subarray(loc.offset, end),
      loc.compression,
      loc.rawLength,
      `pack ${loc.packId}`,
    );
    return decodeTree(plain);
  }

  /** The whole pack from the second tree read from it on; undefined means "read a range". */
  private cachedPack(packId: PackId): Promise<Buffer> | undefined {
    const cached = this.packs.get(packId);
    if (cached !== undefined) {
      // Most recently used last: Map iteration order is insertion order.
      this.packs.delete(packId);
      this.packs.set(packId, cached);
      return cached;
    }
    if (!this.seen.has(packId)) {
      this.seen.add(packId);
      return undefined;
    }
    const pack = this.repo.store.get(
      'pack',
      packId,
      undefined,
      this.signal ? { signal: this.signal } : {},
    );
    // A failed fetch is not cached: each tree then fails (and warns) on its own.
    pack.catch(() => this.packs.delete(packId));
    this.packs.set(packId, pack);
    while (this.packs.size > CACHED_PACKS) this.packs.delete(this.packs.keys().next().value!);
    return pack;
  }
}
