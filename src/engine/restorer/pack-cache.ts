/**
 * PackCache: whole packs fetched once during a restore from network storage, kept while the next
 * batches take their ranges from them. Packs store blobs in shuffled order, so the blobs one
 * batch of files needs are spread over most of each pack it touches, and the batches after it
 * need other blobs of the same packs: a kernel-tree restore that fetched each batch's ranges
 * downloaded 5.0 GB for 257 MB of blobs. Fetching such a pack whole once, and slicing every
 * later range out of memory, downloads it once.
 *
 * Only ranges that span much of a pack use it (a selective restore that needs a few blobs of a
 * pack still reads just those), and only for packs of ≤ MAX_PACK bytes. At most `limit` packs
 * are kept (least recently used go first), at most FETCHES are downloaded at once; a fetch still
 * running when its pack is dropped is finished for the callers already waiting on it. Memory:
 * (FETCHES + CACHE_BYTES / pack size) packs, 112 MiB with 16 MiB packs.
 */
import { Semaphore, type PackId } from '../../core/index.js';
import { rangePastEnd, type ObjectStore } from '../../storage/index.js';

/** Packs larger than this (a repository made with a large --pack-size) are read by range. */
export const MAX_PACK = 32 * 1024 * 1024;
/** Memory for kept packs: 4 packs of the default 16 MiB. */
export const CACHE_BYTES = 64 * 1024 * 1024;
/**
 * Whole packs downloaded at once. Batches mostly need the same few packs, so more would only
 * hold memory (and a network store's connections) for packs the walk reaches later.
 */
export const FETCHES = 3;

export class PackCache {
  /** Least recently used first. */
  private readonly packs = new Map<PackId, Promise<Buffer>>();
  private readonly limit: number;
  private readonly fetches = new Semaphore(FETCHES);

  constructor(
    private readonly store: ObjectStore,
    /** The repository's pack size (its target; packs are close to it, never far above). */
    private readonly packSize: number,
    private readonly signal?: AbortSignal,
  ) {
    this.limit = Math.max(1, Math.floor(CACHE_BYTES / packSize));
  }

  /** Whether a range of `length` bytes is better taken from the whole pack. */
  wants(length: number): boolean {
    return this.packSize <= MAX_PACK && length * 4 >= this.packSize;
  }

  /**
   * The `segments` (start relative to `offset`, length; in order) of pack `packId`, one after
   * the other in memory the caller owns: a range spans most of its pack while its blobs are a
   * fraction of it, so only they are copied out (the kernel restore copied ≈ 5 GB of ranges
   * otherwise). Rejects as ObjectStore.get does, and with INTEGRITY when the pack is shorter.
   */
  async segments(
    packId: PackId,
    offset: number,
    segments: readonly (readonly [start: number, length: number])[],
  ): Promise<Buffer> {
    let pack = this.packs.get(packId);
    if (pack !== undefined) this.packs.delete(packId);
    else {
      const options = this.signal ? { signal: this.signal } : {};
      pack = this.fetches.run(() => this.store.get('pack', packId, undefined, options));
      // A failed fetch is not kept: the next range tries again (and its blobs their fallbacks).
      const fetched = pack;
      fetched.catch(() => {
        if (this.packs.get(packId) === fetched) this.packs.delete(packId);
      });
    }
    this.packs.set(packId, pack);
    while (this.packs.size > this.limit) this.packs.delete(this.packs.keys().next().value!);
    const whole = await pack;
    const span = segments.reduce((end, [start, length]) => Math.max(end, start + length), 0);
    if (offset + span > whole.length)
      throw rangePastEnd('pack', packId, { offset, length: span }, whole.length);
    // A buffer of its own, so the worker gets it transferred and the pack stays whole here.
    const out = Buffer.allocUnsafeSlow(segments.reduce((n, [, length]) => n + length, 0));
    let at = 0;
    for (const [start, length] of segments)
      at += whole.copy(out, at, offset + start, offset + start + length);
    return out;
  }
}
