/**
 * Pack layout (repository-format.md, "Packs"): sealed blobs back to back, then the sealed
 * header, then the header's length as a 4-byte little-endian integer. The header lists every
 * blob, so a pack describes itself and the index can be rebuilt from packs alone.
 *
 * Header plaintext: version (1) || count (u32 LE) || count × entry, where
 * entry = type (u8) || compression (u8) || length (u32 LE) || raw length (u32 LE) || id (32).
 * Offsets are implicit: blob i starts where blob i-1 ends, the first at 0.
 */
import { HoldfastError, idFromBytes, idToBytes, type BlobId } from '../../core/index.js';
import { BLOB_TYPE_CODES, blobTypeFromCode } from './blob-type.js';
import type { CompressionCode, PackEntry } from './pack-entry.js';
import { openFile, sealFile } from './sealed-file.js';

export const PACK_HEADER_VERSION = 1;
const ENTRY_BYTES = 1 + 1 + 4 + 4 + 32;
export const PACK_TRAILER_BYTES = 4;

export function encodePackHeader(masterKey: Buffer, entries: readonly PackEntry[]): Buffer {
  const plain = Buffer.alloc(5 + entries.length * ENTRY_BYTES);
  plain[0] = PACK_HEADER_VERSION;
  plain.writeUInt32LE(entries.length, 1);
  let pos = 5;
  for (const e of entries) {
    plain[pos] = BLOB_TYPE_CODES[e.type];
    plain[pos + 1] = e.compression;
    plain.writeUInt32LE(e.length, pos + 2);
    plain.writeUInt32LE(e.rawLength, pos + 6);
    idToBytes(e.id).copy(plain, pos + 10);
    pos += ENTRY_BYTES;
  }
  const sealed = sealFile(masterKey, 'pack-header', plain);
  const trailer = Buffer.alloc(PACK_TRAILER_BYTES);
  trailer.writeUInt32LE(sealed.length, 0);
  return Buffer.concat([sealed, trailer]);
}

/** Parses the header at the end of `pack` (the whole pack, or at least its tail). */
export function decodePackHeader(
  masterKey: Buffer,
  pack: Buffer,
  packSize: number,
  what: string,
): PackEntry[] {
  const header = openPackHeader(masterKey, pack, packSize, what);
  return Array.from({ length: header.count }, (_, i) => header.entry(i));
}

/**
 * The header at the end of `pack` (the whole pack, or at least its tail), opened and checked
 * as decodePackHeader does, its entries left in the plaintext: `check --read-data` compares
 * thousands per pack with the index without an object and a hex id each.
 */
export function openPackHeader(
  masterKey: Buffer,
  pack: Buffer,
  packSize: number,
  what: string,
): PackHeader {
  if (pack.length < PACK_TRAILER_BYTES)
    throw new HoldfastError('INTEGRITY', `${what}: too short to be a pack`);
  const headerLength = pack.readUInt32LE(pack.length - PACK_TRAILER_BYTES);
  const headerStart = pack.length - PACK_TRAILER_BYTES - headerLength;
  if (headerStart < 0)
    throw new HoldfastError('INTEGRITY', `${what}: header length ${headerLength} exceeds pack`);
  const plain = openFile(
    masterKey,
    'pack-header',
    pack.subarray(headerStart, headerStart + headerLength),
    `${what} header`,
  );
  if (plain[0] !== PACK_HEADER_VERSION) {
    throw new HoldfastError(
      'UNSUPPORTED_FORMAT',
      `${what}: unknown pack header version ${plain[0]}`,
    );
  }
  const count = plain.readUInt32LE(1);
  if (plain.length !== 5 + count * ENTRY_BYTES)
    throw new HoldfastError('INTEGRITY', `${what}: header size mismatch`);
  const blobsEnd = packSize - PACK_TRAILER_BYTES - headerLength;
  const offsets = new Float64Array(count);
  let offset = 0;
  for (let i = 0, pos = 5; i < count; i++, pos += ENTRY_BYTES) {
    if (blobTypeFromCode(plain[pos]!) === undefined || plain[pos + 1]! > 1)
      throw new HoldfastError('INTEGRITY', `${what}: bad header entry ${i}`);
    offsets[i] = offset;
    offset += plain.readUInt32LE(pos + 2);
  }
  if (offset !== blobsEnd)
    throw new HoldfastError('INTEGRITY', `${what}: blobs do not add up to the pack size`);
  return new PackHeader(plain, offsets);
}

/** A pack's opened header: its entries in pack order, read from the plaintext (openPackHeader). */
export class PackHeader {
  constructor(
    private readonly plain: Buffer,
    /** Each entry's offset, ascending (offsets are implicit in the header). */
    private readonly offsets: Float64Array,
  ) {}

  get count(): number {
    return this.offsets.length;
  }

  entry(i: number): PackEntry {
    const pos = 5 + i * ENTRY_BYTES;
    return {
      type: blobTypeFromCode(this.plain[pos]!)!,
      compression: this.plain[pos + 1] as CompressionCode,
      offset: this.offsets[i]!,
      length: this.plain.readUInt32LE(pos + 2),
      rawLength: this.plain.readUInt32LE(pos + 6),
      id: idFromBytes<BlobId>(this.plain.subarray(pos + 10, pos + 42)),
    };
  }

  /** Whether an entry at `offset` has the 32-byte id at bytes[idAt]. */
  lists(bytes: Buffer, idAt: number, offset: number): boolean {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.offsets[mid]!;
      if (at < offset) lo = mid + 1;
      else if (at > offset) hi = mid - 1;
      else {
        // Entries of length 0 (a damaged or forged header) share their offset with the next.
        let first = mid;
        while (first > 0 && this.offsets[first - 1] === offset) first--;
        for (let i = first; i < this.offsets.length && this.offsets[i] === offset; i++)
          if (this.idIs(i, bytes, idAt)) return true;
        return false;
      }
    }
    return false;
  }

  private idIs(i: number, bytes: Buffer, idAt: number): boolean {
    const pos = 5 + i * ENTRY_BYTES + 10;
    return this.plain.compare(bytes, idAt, idAt + 32, pos, pos + 32) === 0;
  }
}

/** How many bytes at the end of a pack to fetch to read its header in one request, usually. */
export function headerReadHint(blobCount: number): number {
  return PACK_TRAILER_BYTES + 2 + 16 + 28 + 5 + blobCount * ENTRY_BYTES;
}
