/**
 * IndexRecords: one pack's entries in an Index file, read in place from the file's plaintext
 * (layout in index-file.ts): loading a large index adds them to the master index without an
 * object, a hex id string and a key conversion per entry. Only files already checked through
 * (`openIndexFile`) hand these out, so the type and compression codes are known to be valid.
 */
import { idFromBytes, type BlobId } from '../../core/index.js';
import { blobTypeFromCode, type BlobType } from './blob-type.js';
import type { CompressionCode, PackEntry } from './pack-entry.js';

/** type (1) || compression (1) || offset (4) || length (4) || raw length (4) || id (32) */
export const INDEX_ENTRY_BYTES = 1 + 1 + 4 + 4 + 4 + 32;
const ID_AT = 14;

export class IndexRecords {
  constructor(
    /** The plaintext holding the entries. */
    readonly bytes: Buffer,
    /** Where the first entry starts. */
    private readonly at: number,
    readonly count: number,
  ) {}

  /** Where entry `i`'s 32-byte id starts in `bytes`. */
  idAt(i: number): number {
    return this.at + i * INDEX_ENTRY_BYTES + ID_AT;
  }

  type(i: number): BlobType {
    return blobTypeFromCode(this.bytes[this.at + i * INDEX_ENTRY_BYTES]!)!;
  }

  compression(i: number): CompressionCode {
    return this.bytes[this.at + i * INDEX_ENTRY_BYTES + 1] as CompressionCode;
  }

  offset(i: number): number {
    return this.bytes.readUInt32LE(this.at + i * INDEX_ENTRY_BYTES + 2);
  }

  length(i: number): number {
    return this.bytes.readUInt32LE(this.at + i * INDEX_ENTRY_BYTES + 6);
  }

  rawLength(i: number): number {
    return this.bytes.readUInt32LE(this.at + i * INDEX_ENTRY_BYTES + 10);
  }

  /** Entry `i` as an object (for the few that need one: duplicates, conflicts). */
  entry(i: number): PackEntry {
    const id = this.idAt(i);
    return {
      type: this.type(i),
      compression: this.compression(i),
      offset: this.offset(i),
      length: this.length(i),
      rawLength: this.rawLength(i),
      id: idFromBytes<BlobId>(this.bytes.subarray(id, id + 32)),
    };
  }
}
