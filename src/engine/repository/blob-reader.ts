/**
 * BlobReader: a repository's read path for single blobs. A blob is read at its master-index
 * location, opened and verified against its id (unsealBlob); when that location does not hold
 * it (damage, a pack gone missing), the alternative locations other index files give are tried
 * in turn — every read is verified, so trying is safe — and the pack is reported once. Index
 * entries that contradict each other are settled the same way, by reading (settleConflicts).
 * Tree blobs are read through whole tree packs held a while (tree-packs.ts).
 */
import {
  describeError,
  HoldfastError,
  isHoldfastError,
  mapLimit,
  type BlobId,
  type Logger,
  type PackId,
} from '../../core/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { unsealBlob, type BlobKeys, type BlobType } from '../format/index.js';
import {
  contradicts,
  sameLocation,
  type AlternativeLocations,
  type BlobLocation,
  type MasterIndex,
} from '../index/index.js';
import { TreePacks } from './tree-packs.js';

export interface BlobReaderContext {
  readonly store: ObjectStore;
  readonly keys: BlobKeys;
  readonly index: MasterIndex;
  readonly alternatives: AlternativeLocations;
  readonly logger: Logger;
  readonly packSize: number;
  /**
   * Whether ranged reads of tree packs are served from files on this machine now (a local
   * repository, a writable local cache): trees are then read one by one, no whole tree pack held
   * (TreePacks).
   */
  readonly treeRangesLocal?: () => boolean;
}

/**
 * Bytes of the buffer loadDecoded opens and decompresses blobs into: room for nearly every
 * tree (a larger one gets buffers of its own).
 */
const SCRATCH_BYTES = 1024 * 1024;

const asIs = (plain: Buffer): Buffer => plain;

export class BlobReader {
  /** Packs already reported for holding something other than the index says. */
  private readonly fallbackPacks = new Set<string>();
  /** Whole tree packs held while trees are read. */
  private readonly treePacks: TreePacks;
  /** loadDecoded's buffer, made at its first use. */
  private scratch: Buffer | undefined;

  constructor(private readonly ctx: BlobReaderContext) {
    this.treePacks = new TreePacks(ctx.store, ctx.packSize, ctx.treeRangesLocal);
  }

  /** Where `id` is read from: the master index's location, else an alternative one. */
  locate(id: BlobId): BlobLocation | undefined {
    return this.ctx.index.lookup(id) ?? this.ctx.alternatives.get(id)[0];
  }

  /** Reads, decrypts, decompresses and verifies one blob. */
  load(type: BlobType, id: BlobId, signal?: AbortSignal): Promise<Buffer> {
    return this.loadAs(type, id, asIs, undefined, signal);
  }

  /**
   * `load`, with the plaintext handed to `decode` as soon as it is verified and opened in one
   * buffer reused for every blob (when it fits): `decode` must not keep it or views of it (a
   * tree decoded into objects). A restore or a walk reads thousands of trees; each used to leave
   * its opened and decompressed bytes to the collector (≈ 20 MiB for the kernel tree's restore,
   * which the main thread's old generation held until its next full collection).
   */
  loadDecoded<T>(
    type: BlobType,
    id: BlobId,
    decode: (plain: Buffer) => T,
    signal?: AbortSignal,
  ): Promise<T> {
    this.scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    return this.loadAs(type, id, decode, this.scratch, signal);
  }

  private async loadAs<T>(
    type: BlobType,
    id: BlobId,
    decode: (plain: Buffer) => T,
    scratch: Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    const loc = this.locate(id);
    if (!loc || loc.type !== type) {
      throw new HoldfastError('INTEGRITY', `${type} blob ${id} is not in the index`, {
        hint: 'run "holdfast check"; if packs exist that the index misses, "holdfast repair index"',
      });
    }
    try {
      return await this.readAt(type, id, loc, decode, scratch, signal);
    } catch (err) {
      if (!isRecoverable(err)) throw err;
      for (const alt of this.ctx.alternatives.get(id)) {
        if (sameLocation(alt, loc) || contradicts(alt, loc)) continue;
        try {
          const result = await this.readAt(type, id, alt, decode, scratch, signal);
          if (!this.fallbackPacks.has(loc.packId)) {
            this.fallbackPacks.add(loc.packId);
            this.ctx.logger.warn(
              `pack ${loc.packId} does not hold what the index says (${describeError(err)}); reading other copies; run "holdfast check"`,
            );
          }
          return result;
        } catch (again) {
          if (!isRecoverable(again)) throw again;
        }
      }
      throw err;
    }
  }

  /**
   * `load` for a blob another reader (a restore worker) could not read or verify at its
   * location. The result is as trustworthy as any load's, but flaky storage or memory hides
   * behind a second read that succeeds, so that is said once per pack (unless `load` already
   * warned about the pack, having read another copy).
   */
  async reload(type: BlobType, id: BlobId, signal?: AbortSignal): Promise<Buffer> {
    const plain = await this.load(type, id, signal);
    const packId = this.locate(id)!.packId;
    if (!this.fallbackPacks.has(packId)) {
      this.fallbackPacks.add(packId);
      this.ctx.logger.warn(
        `pack ${packId}: ${type} blob ${id} could not be read or verified at first and was read again; run "holdfast check --read-data"`,
      );
    }
    return plain;
  }

  /**
   * Index files that contradict each other about a blob's type or length (copies of one blob
   * never do) are settled by reading: the first location whose content verifies is kept.
   */
  async settleConflicts(ids: Set<BlobId>, signal?: AbortSignal): Promise<void> {
    const { index, alternatives } = this.ctx;
    await mapLimit([...ids], 4, async (id) => {
      const first = index.lookup(id)!;
      const candidates = [first, ...alternatives.get(id)];
      for (const c of candidates) {
        if (!(await this.verifies(id, c, signal))) continue;
        if (c !== first) index.relocate(id, c);
        alternatives.set(
          id,
          candidates.filter((o) => o !== c && !contradicts(o, c)),
        );
        return;
      }
      this.ctx.logger.warn(
        `index files disagree about blob ${id} and none of its ${candidates.length} locations verifies`,
      );
    });
  }

  /** A pack is being deleted: a tree pack held for reading is let go. */
  forgetPack(packId: PackId): void {
    this.treePacks.forget(packId);
  }

  private async verifies(id: BlobId, at: BlobLocation, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.readAt(at.type, id, at, asIs, undefined, signal);
      return true;
    } catch (err) {
      if (isRecoverable(err)) return false;
      throw err;
    }
  }

  /** Reads one location; `decode` runs on the plaintext before anything else can use `scratch`. */
  private async readAt<T>(
    type: BlobType,
    id: BlobId,
    loc: BlobLocation,
    decode: (plain: Buffer) => T,
    scratch: Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    const held = type === 'tree' ? await this.treePacks.read(loc, signal) : undefined;
    const sealed =
      held ??
      (await this.ctx.store.get(
        'pack',
        loc.packId,
        { offset: loc.offset, length: loc.length },
        signal ? { signal } : {},
      ));
    const where = `pack ${loc.packId}`;
    const { compression, rawLength } = loc;
    return decode(
      unsealBlob(this.ctx.keys, type, id, sealed, compression, rawLength, where, scratch),
    );
  }
}

/** Read failures another location may not have: damage or a missing pack, not an outage. */
function isRecoverable(err: unknown): boolean {
  return isHoldfastError(err, 'INTEGRITY') || isHoldfastError(err, 'NOT_FOUND');
}
