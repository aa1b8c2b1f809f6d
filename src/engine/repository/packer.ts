/**
 * Packer: collects sealed blobs of one type into a pack in memory until it reaches the target
 * size, then produces the pack bytes (blobs, sealed header, trailer). Memory per open packer is
 * bounded by the pack size plus one blob.
 */
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

  finish(masterKey: Buffer): { bytes: Buffer; entries: PackEntry[] } {
    const header = encodePackHeader(masterKey, this.entries);
    return { bytes: Buffer.concat([...this.parts, header]), entries: this.entries };
  }
}
