/**
 * Packer: collects sealed blobs of one type into a pack in memory until it reaches the target
 * size, then produces the pack bytes (blobs, sealed header, trailer) and names them. Memory per
 * open packer is bounded by the pack size plus one blob. SpooledPacker does the same on disk.
 */
import { randomInt } from 'node:crypto';
import type { BlobId, PackId } from '../../core/index.js';
import type { ObjectBody } from '../../storage/index.js';
import { fileIdOfParts } from '../crypto/index.js';
import {
  encodePackHeader,
  type BlobType,
  type CompressionCode,
  type PackEntry,
} from '../format/index.js';

/**
 * Whoever lends the memory a sealed blob sits in. When `saveSealed` keeps a blob (`added`),
 * BlobWriter calls `release(sealed)` once nothing reads those bytes any more: when the blob's
 * pack is stored (ObjectStore.put does not retain its body), or, for a pack spooled to disk
 * (SpooledPacker), once they are copied or written there. The owner may then reuse the memory
 * at once instead of waiting for the garbage collector to free it. A blob not kept, or whose
 * pack failed to store, is never released: its memory is left to the collector (a failed pack
 * fails the session).
 */
export interface SealedBlobOwner {
  release(sealed: Buffer): void;
}

/** A pack laid out and named, to store (Packer.finish, SpooledPacker.finish). */
export interface FinishedPack {
  readonly id: PackId;
  /** The pack's bytes: blobs in their random order, the sealed header, the trailer. */
  readonly body: ObjectBody;
  /** The header's entries, in the pack's order, with their offsets. */
  readonly entries: PackEntry[];
  /**
   * Called once, when the pack is stored (`stored`) or given up: lets go of what holds its
   * bytes (lent memory goes back to its owners only when stored; see SealedBlobOwner).
   */
  readonly done: (stored: boolean) => void;
}

/** A pack being filled (Packer in memory, SpooledPacker on disk). */
export interface PackFilling {
  readonly type: BlobType;
  /** Sealed bytes added. */
  readonly size: number;
  readonly blobCount: number;
  readonly isFull: boolean;
  /** Adds a sealed blob; the returned promise (if any) must settle before the next call. */
  add(
    id: BlobId,
    sealed: Buffer,
    rawLength: number,
    compression: CompressionCode,
    owner?: SealedBlobOwner,
  ): Promise<void> | undefined;
  /** Lays the blobs out in random order, seals the header and names the pack. Final. */
  finish(masterKey: Buffer): Promise<FinishedPack>;
}

/**
 * A uniformly random order of `n` blobs (Fisher–Yates with a CSPRNG): the order in which a
 * file's chunks were written would otherwise let someone who sees pack sizes and offsets line
 * up chunk sizes with known files (repository-format.md §9).
 */
export function shuffledOrder(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Entries in `order`, their offsets laid out from 0: what the pack's header lists.
 */
export function laidOut(entries: readonly PackEntry[], order: readonly number[]): PackEntry[] {
  let offset = 0;
  return order.map((i) => {
    const e = entries[i]!;
    const placed = { ...e, offset };
    offset += e.length;
    return placed;
  });
}

/**
 * What every pack being filled records: its blobs' entries (offsets in arrival order) and
 * their sealed bytes against the target size.
 */
export abstract class FillingPack {
  protected readonly entries: PackEntry[] = [];
  protected bytes = 0;

  constructor(
    readonly type: BlobType,
    private readonly targetSize: number,
  ) {}

  get size(): number {
    return this.bytes;
  }

  get blobCount(): number {
    return this.entries.length;
  }

  get isFull(): boolean {
    return this.bytes >= this.targetSize;
  }

  /** Notes a blob of `length` sealed bytes; returns where it starts in arrival order. */
  protected record(
    id: BlobId,
    length: number,
    rawLength: number,
    compression: CompressionCode,
  ): number {
    const offset = this.bytes;
    this.entries.push({ type: this.type, id, offset, length, rawLength, compression });
    this.bytes += length;
    return offset;
  }
}

export class Packer extends FillingPack implements PackFilling {
  private readonly parts: Buffer[] = [];
  /** Parts lent by an owner, to give back once the pack is stored, and their owners. */
  private lentParts: Buffer[] = [];
  private lentOwners: SealedBlobOwner[] = [];

  add(
    id: BlobId,
    sealed: Buffer,
    rawLength: number,
    compression: CompressionCode,
    owner?: SealedBlobOwner,
  ): undefined {
    this.record(id, sealed.length, rawLength, compression);
    this.parts.push(sealed);
    if (owner !== undefined) {
      this.lentParts.push(sealed);
      this.lentOwners.push(owner);
    }
    return undefined;
  }

  /**
   * The pack as parts in order — blobs, then the sealed header and trailer — stored as they are
   * (ObjectBody), named in the thread pool without joining them (fileIdOfParts).
   */
  async finish(masterKey: Buffer): Promise<FinishedPack> {
    const order = shuffledOrder(this.entries.length);
    const entries = laidOut(this.entries, order);
    const parts = order.map((i) => this.parts[i]!);
    parts.push(encodePackHeader(masterKey, entries));
    this.parts.length = 0;
    const { lentParts, lentOwners } = this;
    this.lentParts = [];
    this.lentOwners = [];
    const id = await fileIdOfParts<PackId>(parts);
    return {
      id,
      body: parts,
      entries,
      done: (stored) => {
        if (stored) lentParts.forEach((part, i) => lentOwners[i]!.release(part));
      },
    };
  }
}
