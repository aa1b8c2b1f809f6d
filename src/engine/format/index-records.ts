/**
 * IndexRecords: one pack's entries in an Index file, read in place from the file's plaintext
 * (layout in index-file.ts): loading a large index adds them to the master index without an
 * object, a hex id string and a key conversion per entry. Only files already checked through
 * (`openIndexFile`) hand these out, or `encode` from entries a writer made, so the type and
 * compression codes are known to be valid.
 */
import { idFromBytes, idToBytes, type BlobId } from '../../core/index.js';
import { BLOB_TYPE_CODES, blobTypeFromCode, type BlobType } from './blob-type.js';
import type { CompressionCode, PackEntry } from './pack-entry.js';

/** type (1) || compression (1) || offset (4) || length (4) || raw length (4) || id (32) */
export const INDEX_ENTRY_BYTES = 1 + 1 + 4 + 4 + 4 + 32;
const ID_AT = 14;

export class IndexRecords {
  /**
   * `entries` encoded as in an Index file, in a buffer of their own: what a writer keeps of the
   * packs it stored until an index lists them, 46 bytes per blob instead of an object and a
   * hex id string (≈ 150 bytes).
   */
  static encode(entries: readonly PackEntry[]): IndexRecords {
    const bytes = Buffer.allocUnsafeSlow(entries.length * INDEX_ENTRY_BYTES);
    entries.forEach((e, i) => writeEntry(bytes, i * INDEX_ENTRY_BYTES, e));
    return new IndexRecords(bytes, 0, entries.length);
  }

  /**
   * The entries of `lists` one after another, in a buffer of their own (46 bytes per blob): what
   * `check --read-data` hands a worker for a pack that index files list, instead of an object
   * and a hex id per blob, which the worker would keep until the pack is checked.
   */
  static join(lists: readonly IndexRecords[]): IndexRecords {
    const count = lists.reduce((n, r) => n + r.count, 0);
    const bytes = Buffer.allocUnsafeSlow(count * INDEX_ENTRY_BYTES);
    let at = 0;
    for (const records of lists) at += records.copyTo(bytes, at);
    return new IndexRecords(bytes, 0, count);
  }

  /** Entries encoded as `join` and `encode` lay them out (a buffer sent to another thread). */
  static of(bytes: Uint8Array): IndexRecords {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new IndexRecords(view, 0, Math.floor(bytes.byteLength / INDEX_ENTRY_BYTES));
  }

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

  /** Entry `i`'s id (a new string: for messages, or the few that need one). */
  id(i: number): BlobId {
    const at = this.idAt(i);
    return idFromBytes<BlobId>(this.bytes.subarray(at, at + 32));
  }

  /** Copies the encoded entries into `target` at `at`; returns the bytes copied. */
  copyTo(target: Buffer, at: number): number {
    return this.bytes.copy(target, at, this.at, this.at + this.count * INDEX_ENTRY_BYTES);
  }

  /** Copies entry `i` alone into `target` at `at` (INDEX_ENTRY_BYTES). */
  copyEntryTo(i: number, target: Buffer, at: number): void {
    const from = this.at + i * INDEX_ENTRY_BYTES;
    this.bytes.copy(target, at, from, from + INDEX_ENTRY_BYTES);
  }

  /** Entry `i` as an object (for the few that need one: duplicates, conflicts). */
  entry(i: number): PackEntry {
    return {
      type: this.type(i),
      compression: this.compression(i),
      offset: this.offset(i),
      length: this.length(i),
      rawLength: this.rawLength(i),
      id: this.id(i),
    };
  }
}

/** Writes one entry at `at` (layout above). */
export function writeEntry(buf: Buffer, at: number, e: PackEntry): void {
  buf[at] = BLOB_TYPE_CODES[e.type];
  buf[at + 1] = e.compression;
  buf.writeUInt32LE(e.offset, at + 2);
  buf.writeUInt32LE(e.length, at + 6);
  buf.writeUInt32LE(e.rawLength, at + 10);
  idToBytes(e.id).copy(buf, at + ID_AT);
}
