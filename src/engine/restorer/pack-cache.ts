/**
 * PackCache: whole packs fetched once during a restore from network storage, kept while the next
 * batches take their ranges from them. Packs store blobs in shuffled order, so the blobs one
 * batch of files needs are spread over most of each pack it touches, and the batches after it
 * need other blobs of the same packs: a kernel-tree restore that fetched each batch's ranges
 * downloaded 5.0 GB for 257 MB of blobs. Fetching such a pack whole once, and handing every
 * later range out of the kept copy, downloads it once.
 *
 * A pack is fetched whole when a batch's ranges of it span much of it (a selective restore that
 * needs a few blobs of a pack still reads just those), and only packs of ≤ MAX_PACK bytes. Once a
 * pack is kept or on its way, every range of it comes from here, however short: ranged reads of
 * a pack being fetched whole downloaded it twice (a kernel-tree restore from S3 read 182 MiB of
 * such ranges besides its 256 MiB of whole packs).
 *
 * Where kept packs live: in a spool on this machine's disk when there is one (PackSpool), as a
 * file the restore workers read their ranges from like a local repository's packs, so that the
 * process holds none of their bytes; otherwise in memory. Into the spool a pack is streamed as it
 * arrives (ObjectStore `sink`); into memory it is downloaded into a slab — a SharedArrayBuffer
 * reused from pack to pack, which the store writes the download into (ObjectStore `into`) and the
 * workers read blobs from in place. A range holds a lease on its pack (its file or its slab)
 * until its worker has handled it; a pack's file is removed, or its slab reused, once it is
 * neither kept, nor being fetched, nor leased. A pack that does not fit a slab (a blob larger
 * than SLAB_SLACK ended it) is downloaded into memory of its own, and its ranges copied out. If
 * the spool cannot be written (a full disk), the rest of the restore keeps packs in memory.
 *
 * Bounds: at most SPOOL_BYTES of packs are kept in the spool, or CACHE_BYTES in memory (least
 * recently used go first); at most FETCHES are downloaded at once; in memory at most those kept
 * + FETCHES slabs exist, and a fetch waits for a slab when all are in use (leases end as the
 * workers go on, which needs no slab). Memory with a spool: a 1 MiB staging buffer per download;
 * without: 5 slabs of 18 MiB for 16 MiB packs, plus a pack too large for one while it is kept.
 * Measured on a kernel-tree restore from a repository server: peak 185–191 MiB with the spool,
 * 252–256 MiB with the slabs, in the same time and with the same 253 MiB downloaded.
 */
import {
  describeError,
  HoldfastError,
  Semaphore,
  throwIfAborted,
  interrupted,
  type PackId,
} from '../../core/index.js';
import { rangePastEnd, type ObjectStore } from '../../storage/index.js';
import { PackSpool } from '../spool/pack-spool.js';

/** Packs larger than this (a repository made with a large --pack-size) are read by range. */
export const MAX_PACK = 32 * 1024 * 1024;
/**
 * Memory for kept packs: 3 packs of the default 16 MiB. A kernel-tree restore from a repository
 * server downloaded 252 MiB of packs with 3 or 4 kept, 273 MiB with 2.
 */
export const CACHE_BYTES = 48 * 1024 * 1024;
/**
 * Disk for kept packs (PackSpool): 8 packs of the default 16 MiB. Disk is not the process's
 * memory, so more are kept than in memory, and fewer are downloaded again.
 */
export const SPOOL_BYTES = 128 * 1024 * 1024;
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
  /** The pack's length in bytes. */
  readonly length: number;
  /** The whole pack when it is kept in memory; undefined when it is in `file`. */
  readonly bytes: Buffer | undefined;
  /** The slab `bytes` is a view of (from its start), or undefined for a pack kept on its own. */
  readonly memory: SharedArrayBuffer | undefined;
  /** The spooled copy of the whole pack (PackSpool), or undefined when it is in memory. */
  readonly file: string | undefined;
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

export interface PackCacheOptions {
  readonly signal?: AbortSignal;
  /**
   * Where a spool for kept packs may go, in order of preference (PackSpool.open); without it, or
   * when none of them is on a disk, packs are kept in memory.
   */
  readonly spoolDirs?: readonly string[];
  /** Told once when the spool cannot be written and packs are kept in memory from then on. */
  readonly onWarning?: (message: string) => void;
}

/** One pack: kept, being fetched, or leased. */
interface Entry {
  /** Settles when the pack is fetched; rejects as the fetch did. */
  ready: Promise<void>;
  length: number;
  bytes: Buffer | undefined;
  slab: SharedArrayBuffer | undefined;
  file: string | undefined;
  /** Kept (in the map) + being fetched + leases; at 0 its slab is reused, its file removed. */
  refs: number;
}

export class PackCache {
  /** Least recently used first. */
  private readonly packs = new Map<PackId, Entry>();
  /** Packs kept: SPOOL_BYTES' worth while there is a spool, CACHE_BYTES' in memory. */
  private limit: number;
  private readonly memoryLimit: number;
  private readonly fetches = new Semaphore(FETCHES);
  /** Opened at the first download; resolves undefined when no place for one is on a disk. */
  private spool: Promise<PackSpool | undefined> | undefined;
  /** Writing to the spool failed once: packs are kept in memory from then on. */
  private spoolFailed = false;
  /** The restore has ended (close): a late download neither makes a spool nor warns. */
  private closed = false;
  private readonly slabSize: number;
  private readonly maxSlabs: number;
  private slabCount = 0;
  private readonly freeSlabs: SharedArrayBuffer[] = [];
  private readonly slabWaiters: ((slab: SharedArrayBuffer | Error) => void)[] = [];

  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly store: ObjectStore,
    /** The repository's pack size (its target; packs are close to it, never far above). */
    private readonly packSize: number,
    private readonly options: PackCacheOptions = {},
  ) {
    this.memoryLimit = Math.max(1, Math.floor(CACHE_BYTES / packSize));
    this.limit = options.spoolDirs
      ? Math.max(1, Math.floor(SPOOL_BYTES / packSize))
      : this.memoryLimit;
    this.slabSize = packSize + SLAB_SLACK;
    this.maxSlabs = this.memoryLimit + FETCHES;
    const signal = (this.signal = options.signal);
    signal?.addEventListener('abort', () => this.failWaiters(interrupted(signal)), { once: true });
  }

  /**
   * Removes the spool and every pack in it. Call once no range is read any more (the workers
   * have stopped); the cache is unusable afterwards.
   */
  async close(): Promise<void> {
    this.closed = true;
    const spool = await this.spool?.catch(() => undefined);
    await spool?.close();
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
      length: entry.length,
      bytes: entry.bytes,
      memory: entry.slab,
      file: entry.file,
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

  /**
   * Starts fetching a pack (into the spool or a slab); the entry holds the map's ref and the
   * fetch's.
   */
  private fetch(packId: PackId): Entry {
    const entry: Entry = {
      refs: 2,
      ready: Promise.resolve(),
      length: 0,
      bytes: undefined,
      slab: undefined,
      file: undefined,
    };
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
    const spool = await this.openSpool();
    if (spool !== undefined && (await this.downloadToSpool(spool, packId, entry))) return;
    const slab = await this.takeSlab();
    let got: Buffer;
    try {
      const into = new Uint8Array(slab);
      got = await this.store.get('pack', packId, undefined, { ...this.signalOption(), into });
    } catch (err) {
      this.giveSlab(slab);
      throw err;
    }
    entry.length = got.length;
    if (got.buffer === slab && got.byteOffset === 0) {
      entry.slab = slab;
      entry.bytes = got;
    } else if (got.length <= slab.byteLength) {
      // A store that does not stream (memory, a cache) answered with memory of its own.
      new Uint8Array(slab).set(got);
      entry.slab = slab;
      entry.bytes = Buffer.from(slab, 0, got.length);
    } else {
      this.giveSlab(slab);
      entry.bytes = got;
    }
  }

  /**
   * Downloads a pack into a file of the spool (PackSpool.download). False when the spool could
   * not be written: packs are kept in memory from then on, this one downloaded again. Rejects
   * as the store does.
   */
  private async downloadToSpool(spool: PackSpool, packId: PackId, entry: Entry): Promise<boolean> {
    const spooled = await spool.download(this.store, packId, this.signal);
    if ('spoolError' in spooled) {
      this.stopSpooling(spool, spooled.spoolError);
      return false;
    }
    entry.file = spooled.path;
    entry.length = spooled.length;
    return true;
  }

  /** The spool, opened at the first call; undefined without one, or once it failed. */
  private async openSpool(): Promise<PackSpool | undefined> {
    const dirs = this.options.spoolDirs;
    if (dirs === undefined || this.spoolFailed || this.closed) return undefined;
    this.spool ??= PackSpool.open(dirs).then((spool) => {
      if (spool === undefined) this.limit = this.memoryLimit;
      return spool;
    });
    return this.spool;
  }

  /** A spool write failed: packs are kept in memory from here on (those spooled stay there). */
  private stopSpooling(spool: PackSpool, err: unknown): void {
    if (this.spoolFailed) return;
    this.spoolFailed = true;
    this.limit = this.memoryLimit;
    if (!this.closed)
      this.options.onWarning?.(
        `cannot write packs to ${spool.dir} (${describeError(err)}); keeping them in memory instead`,
      );
  }

  private signalOption(): { signal?: AbortSignal } {
    return this.signal ? { signal: this.signal } : {};
  }

  private unref(entry: Entry): void {
    if (--entry.refs > 0) return;
    const { slab, file } = entry;
    entry.slab = undefined;
    entry.bytes = undefined;
    entry.file = undefined;
    if (slab !== undefined) this.giveSlab(slab);
    if (file !== undefined) void this.spool?.then((spool) => spool?.remove(file));
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
