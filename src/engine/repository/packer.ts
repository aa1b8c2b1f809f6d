/**
 * Packer: collects sealed blobs of one type into a pack in memory until it reaches the target
 * size, then produces the pack bytes (blobs, sealed header, trailer). Memory per open packer is
 * bounded by the pack size plus one blob.
 */
import { randomInt } from 'node:crypto';
import type { BlobId } from '../../core/index.js';
import {
  encodePackHeader,
  type BlobType,
  type CompressionCode,
  type PackEntry,
} from '../format/index.js';

/**
 * Whoever lends the memory a sealed blob sits in. When `saveSealed` keeps a blob (`added`),
 * BlobWriter calls `release(sealed)` once the blob's pack is stored — from then on nothing in
 * the writer or the store reads those bytes (ObjectStore.put does not retain its body), so the
 * owner may reuse the memory at once instead of waiting for the garbage collector to free it.
 * A blob not kept, or whose pack failed to store, is never released: its memory is left to
 * the collector (a failed pack fails the session).
 */
export interface SealedBlobOwner {
  release(sealed: Buffer): void;
}

export class Packer {
  private readonly parts: Buffer[] = [];
  private readonly entries: PackEntry[] = [];
  /** Parts lent by an owner, to give back once the pack is stored, and their owners. */
  private lentParts: Buffer[] = [];
  private lentOwners: SealedBlobOwner[] = [];
  private bytes = 0;

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

  add(
    id: BlobId,
    sealed: Buffer,
    rawLength: number,
    compression: CompressionCode,
    owner?: SealedBlobOwner,
  ): void {
    this.entries.push({
      type: this.type,
      id,
      offset: this.bytes,
      length: sealed.length,
      rawLength,
      compression,
    });
    this.parts.push(sealed);
    if (owner !== undefined) {
      this.lentParts.push(sealed);
      this.lentOwners.push(owner);
    }
    this.bytes += sealed.length;
  }

  /**
   * Lays the blobs out in random order: the order in which a file's chunks were written would
   * otherwise let someone who sees pack sizes and offsets line up chunk sizes with known files.
   * Returns the pack's parts in order — blobs, then the sealed header and trailer — to be named
   * (fileIdOfParts) and stored (ObjectBody) as they are, and `release`, to call once they are
   * stored: it hands lent parts back to their owners (SealedBlobOwner).
   * Finishing is final: the packer lets go of its parts.
   */
  finish(masterKey: Buffer): { parts: Buffer[]; entries: PackEntry[]; release: () => void } {
    const order = this.entries.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const entries: PackEntry[] = [];
    const parts: Buffer[] = [];
    let offset = 0;
    for (const i of order) {
      const e = this.entries[i]!;
      entries.push({ ...e, offset });
      parts.push(this.parts[i]!);
      offset += e.length;
    }
    parts.push(encodePackHeader(masterKey, entries));
    this.parts.length = 0;
    const { lentParts, lentOwners } = this;
    this.lentParts = [];
    this.lentOwners = [];
    const release = (): void => lentParts.forEach((part, i) => lentOwners[i]!.release(part));
    return { parts, entries, release };
  }
}
