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

export class Packer {
  private readonly parts: Buffer[] = [];
  private readonly entries: PackEntry[] = [];
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

  add(id: BlobId, sealed: Buffer, rawLength: number, compression: CompressionCode): void {
    this.entries.push({
      type: this.type,
      id,
      offset: this.bytes,
      length: sealed.length,
      rawLength,
      compression,
    });
    this.parts.push(sealed);
    this.bytes += sealed.length;
  }

  /**
   * Lays the blobs out in random order: the order in which a file's chunks were written would
   * otherwise let someone who sees pack sizes and offsets line up chunk sizes with known files.
   * Returns the pack's parts in order — blobs, then the sealed header and trailer — to be named
   * (fileIdOfParts) and stored (ObjectBody) as they are.
   * Finishing is final: the packer lets go of its parts.
   */
  finish(masterKey: Buffer): { parts: Buffer[]; entries: PackEntry[] } {
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
    return { parts, entries };
  }
}
