/**
 * PackCache: whole packs fetched once during a restore from network storage, kept while the next
 * batches take their ranges from them. Packs store blobs in shuffled order, so the blobs one
 * batch of files needs are spread over most of each pack it touches, and the batches after it
 * need other blobs of the same packs: a kernel-tree restore that fetched each batch's ranges
 * downloaded 5.0 GB for 257 MB of blobs. Fetching such a pack whole once, and handing every
 * later range out of memory, downloads it once.
 *
 * A pack is fetched whole when a batch's ranges of it span much of it (a selective restore that
 * needs a few blobs of a pack still reads just those), and only packs of ≤ MAX_PACK bytes. Once a
 * pack is kept or on its way, every range of it comes from here, however short: ranged reads of
 * a pack being fetched whole downloaded it twice (a kernel-tree restore from S3 read 182 MiB of
 * such ranges besides its 256 MiB of whole packs).
 *
 * Packs live in slabs: SharedArrayBuffers, reused from pack to pack, which the store writes the
 * download into (ObjectStore `into`) and the restore workers read blobs from in place. A range
 * holds a lease on its pack's slab until its worker has handled it; a slab is reused once its
 * pack is neither kept, nor being fetched, nor leased. Copying each range out of the pack into
 * fresh memory, as before, cost the main thread of a kernel-tree restore ≈ 0.8 s of page faults
 * and much of its 1.8 s of garbage collection. A pack that does not fit a slab (a blob larger
 * than SLAB_SLACK ended it) is kept in memory of its own, and its ranges are copied out.
 *
 * Bounds: at most `limit` packs are kept (least recently used go first), at most FETCHES are
 * downloaded at once, and at most `limit` + FETCHES slabs exist; a fetch waits for a slab when
 * all are in use (leases end as the workers go on, which needs no slab). Memory: that many
 * slabs, 5 of 16 MiB packs, plus a pack too large for one while it is kept.
 */
import {
  HoldfastError,
  Semaphore,
  throwIfAborted,
  interrupted,
  type PackId,
} from '../../core/index.js';
import { rangePastEnd, type ObjectStore } from '../../storage/index.js';

/** Packs larger than this (a repository made with a large --pack-size) are read by range. */
export const MAX_PACK = 32 * 1024 * 1024;
/**
 * Memory for kept packs: 3 packs of the default 16 MiB. A kernel-tree restore from a repository
 * server downloaded 252 MiB of packs with 3 or 4 kept, 273 MiB with 2.
 */
export const CACHE_BYTES = 48 * 1024 * 1024;
/**
 * Whole packs downloaded at once. Batches mostly need the same few packs, so more would only
 * hold memory (and a network store's connections) for packs the walk reaches later. Two 16 MiB
 * packs in flight fill any link whose bandwidth × round trip is below 32 MiB; a kernel-tree
 * restore from a repository server took as long with 2 as with 3, with 18 MiB less at its peak.
 */
export const FETCHES = 2;
/**
 * A slab's room beyond the pack size: a pack ends with the blob that reaches the size, plus its
 * header, so most packs are a little larger. Pages of a slab never written are never touched.
 */
export const SLAB_SLACK = 2 * 1024 * 1024;

/** A pack handed out for reading; `release` once its bytes are no longer read. */
export interface PackLease {
  /** The whole pack. */
  readonly bytes: Buffer;
  /** The slab `bytes` is a view of (from its start), or undefined for a pack kept on its own. */
  readonly memory: SharedArrayBuffer | undefined;
  /** Ends the lease; later calls do nothing. */
  readonly release: () => void;
  /**
   * Another lease of the same pack, valid after this one ends (only while this one is held):
   * how a batch holds a pack for all of its ranges while each range's lease ends with its
   * worker's report. Leasing the pack again instead could find it dropped from the cache and
   * fetch it again.
   */
  readonly share: () => PackLease;
}

/** One pack: kept, being fetched, or leased. */
interface Entry {
  /** Settles when the pack is fetched; rejects as the fetch did. */
  ready: Promise<void>;
  bytes: Buffer | undefined;
  slab: SharedArrayBuffer | undefined;
  /** Kept (in the map) + being fetched + leases; the slab is free again at 0. */
  refs: number;
}

export class PackCache {
  /** Least recently used first. */
  private readonly packs = new Map<PackId, Entry>();
  private readonly limit: number;
  private readonly fetches = new Semaphore(FETCHES);
  private readonly slabSize: number;
  private readonly maxSlabs: number;
  private slabCount = 0;
  private readonly freeSlabs: SharedArrayBuffer[] = [];
  private readonly slabWaiters: ((slab: SharedArrayBuffer | Error) => void)[] = [];

  constructor(
    private readonly store: ObjectStore,
    /** The repository's pack size (its target; packs are close to it, never far above). */
    private readonly packSize: number,
    private readonly signal?: AbortSignal,
  ) {
    this.limit = Math.max(1, Math.floor(CACHE_BYTES / packSize));
    this.slabSize = packSize + SLAB_SLACK;
    this.maxSlabs = this.limit + FETCHES;
    signal?.addEventListener('abort', () => this.failWaiters(interrupted(signal)), { once: true });
  }

  /**
   * Whether ranges of pack `packId` spanning `length` bytes in all are better taken from the
   * whole pack: it is kept or being fetched already, or they span a quarter of a pack or more.
   */
  wants(packId: PackId, length: number): boolean {
    return this.packSize <= MAX_PACK && (this.packs.has(packId) || length * 4 >= this.packSize);
  }

  /**
   * The whole pack `packId`, fetched unless kept, for reading until the lease is released.
   * Rejects as ObjectStore.get does (nothing to release then).
   */
  async lease(packId: PackId): Promise<PackLease> {
    let entry = this.packs.get(packId);
    if (entry !== undefined) this.packs.delete(packId);
    else entry = this.fetch(packId);
    this.packs.set(packId, entry);
    while (this.packs.size > this.limit) {
      const [oldest, dropped] = this.packs.entries().next().value!;
      this.packs.delete(oldest);
      this.unref(dropped);
    }
    // Taken before waiting: the slab must not be reused while this caller waits for the fetch.
    entry.refs++;
    try {
      await entry.ready;
    } catch (err) {
      this.unref(entry);
      throw err;
    }
    return this.leaseOf(entry);
  }

  /** A lease of a fetched entry whose reference the caller has taken. */
  private leaseOf(entry: Entry): PackLease {
    let released = false;
    return {
      bytes: entry.bytes!,
      memory: entry.slab,
      release: () => {
        if (released) return;
        released = true;
        this.unref(entry);
      },
      share: () => {
        // After the release the slab may hold another pack already.
        if (released) throw new Error('PackCache: a lease shared after its release');
        entry.refs++;
        return this.leaseOf(entry);
      },
    };
  }

  /**
   * The `segments` (start relative to `offset`, length; in order) of a pack, one after the other
   * in memory the caller owns (for a worker to have transferred): what a range out of a pack kept
   * on its own costs. Rejects with INTEGRITY when the pack is shorter.
   */
  static copySegments(
    packId: PackId,
    pack: Buffer,
    offset: number,
    segments: readonly (readonly [start: number, length: number])[],
  ): Buffer {
    PackCache.checkSpan(packId, pack, offset, segments);
    const out = Buffer.allocUnsafeSlow(segments.reduce((n, [, length]) => n + length, 0));
    let at = 0;
    for (const [start, length] of segments)
      at += pack.copy(out, at, offset + start, offset + start + length);
    return out;
  }

  /** Throws INTEGRITY when `segments` from `offset` reach past the end of the pack. */
  static checkSpan(
    packId: PackId,
    pack: Buffer,
    offset: number,
    segments: readonly (readonly [start: number, length: number])[],
  ): void {
    const span = segments.reduce((end, [start, length]) => Math.max(end, start + length), 0);
    if (offset + span > pack.length)
      throw rangePastEnd('pack', packId, { offset, length: span }, pack.length);
  }

  /** Starts fetching a pack into a slab; the entry holds the map's ref and the fetch's. */
  private fetch(packId: PackId): Entry {
    const entry: Entry = { refs: 2, ready: Promise.resolve(), bytes: undefined, slab: undefined };
    entry.ready = this.fetches
      .run(() => this.download(packId, entry))
      .finally(() => this.unref(entry));
    // A failed fetch is not kept: the next range tries again (and its blobs their fallbacks).
    entry.ready.catch(() => {
      if (this.packs.get(packId) === entry) {
        this.packs.delete(packId);
        this.unref(entry);
      }
    });
    return entry;
  }

  private async download(packId: PackId, entry: Entry): Promise<void> {
    const slab = await this.takeSlab();
    entry.slab = slab;
    const into = new Uint8Array(slab);
    const options = this.signal ? { signal: this.signal, into } : { into };
    const got = await this.store.get('pack', packId, undefined, options);
    if (got.buffer === slab && got.byteOffset === 0) entry.bytes = got;
    else if (got.length <= slab.byteLength) {
      // A store that does not stream (memory, a cache) answered with memory of its own.
      into.set(got);
      entry.bytes = Buffer.from(slab, 0, got.length);
    } else {
      entry.slab = undefined;
      this.giveSlab(slab);
      entry.bytes = got;
    }
  }

  private unref(entry: Entry): void {
    if (--entry.refs > 0 || entry.slab === undefined) return;
    const slab = entry.slab;
    entry.slab = undefined;
    entry.bytes = undefined;
    this.giveSlab(slab);
  }

  private async takeSlab(): Promise<SharedArrayBuffer> {
    throwIfAborted(this.signal);
    const free = this.freeSlabs.pop();
    if (free !== undefined) return free;
    if (this.slabCount < this.maxSlabs) {
      this.slabCount++;
      return new SharedArrayBuffer(this.slabSize);
    }
    const slab = await new Promise<SharedArrayBuffer | Error>((resolve) =>
      this.slabWaiters.push(resolve),
    );
    if (slab instanceof Error) throw slab;
    return slab;
  }

  private giveSlab(slab: SharedArrayBuffer): void {
    const waiter = this.slabWaiters.shift();
    if (waiter !== undefined) waiter(slab);
    else this.freeSlabs.push(slab);
  }

  private failWaiters(err: HoldfastError): void {
    for (const waiter of this.slabWaiters.splice(0)) waiter(err);
  }
}
