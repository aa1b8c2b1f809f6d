/**
 * Index files (repository-format.md, "Indexes"): which blobs live in which pack, at what offset.
 * Sealed (kind index) binary plaintext:
 *
 *   version (1) || superseded count (u32) || superseded index ids (32 each)
 *   || pack count (u32) || per pack: pack id (32) || blob count (u32) || blob count × entry
 *   entry = type (u8) || compression (u8) || offset (u32) || length (u32) || raw length (u32) || id (32)
 *
 * "Superseded" names index files this one replaces (written by repair and prune); readers
 * ignore a superseded index once the superseding one is present.
 */
import {
  HoldfastError,
  idFromBytes,
  idToBytes,
  type BlobId,
  type IndexId,
  type PackId,
} from '../../core/index.js';
import { BLOB_TYPE_CODES, blobTypeFromCode } from './blob-type.js';
import type { CompressionCode, PackEntry } from './pack-entry.js';
import { openFile, sealFile } from './sealed-file.js';

export const INDEX_VERSION = 1;
const ENTRY_BYTES = 1 + 1 + 4 + 4 + 4 + 32;

export interface IndexedPack {
  readonly packId: PackId;
  readonly entries: readonly PackEntry[];
}

export interface IndexFileContent {
  readonly supersedes: readonly IndexId[];
  readonly packs: readonly IndexedPack[];
}

export function encodeIndexFile(masterKey: Buffer, content: IndexFileContent): Buffer {
  let size = 1 + 4 + 32 * content.supersedes.length + 4;
  for (const p of content.packs) size += 32 + 4 + p.entries.length * ENTRY_BYTES;
  const buf = Buffer.alloc(size);
  buf[0] = INDEX_VERSION;
  let pos = 1;
  pos = buf.writeUInt32LE(content.supersedes.length, pos);
  for (const id of content.supersedes) pos += idToBytes(id).copy(buf, pos);
  pos = buf.writeUInt32LE(content.packs.length, pos);
  for (const p of content.packs) {
    pos += idToBytes(p.packId).copy(buf, pos);
    pos = buf.writeUInt32LE(p.entries.length, pos);
    for (const e of p.entries) {
      buf[pos] = BLOB_TYPE_CODES[e.type];
      buf[pos + 1] = e.compression;
      buf.writeUInt32LE(e.offset, pos + 2);
      buf.writeUInt32LE(e.length, pos + 6);
      buf.writeUInt32LE(e.rawLength, pos + 10);
      idToBytes(e.id).copy(buf, pos + 14);
      pos += ENTRY_BYTES;
    }
  }
  return sealFile(masterKey, 'index', buf);
}

export function decodeIndexFile(masterKey: Buffer, bytes: Buffer, what: string): IndexFileContent {
  const buf = openFile(masterKey, 'index', bytes, what);
  const fail = (why: string): never => {
    throw new HoldfastError('INTEGRITY', `${what}: ${why}`);
  };
  if (buf[0] !== INDEX_VERSION) {
    throw new HoldfastError('UNSUPPORTED_FORMAT', `${what}: unknown index version ${buf[0]}`);
  }
  let pos = 1;
  const need = (n: number): void => {
    if (pos + n > buf.length) fail('truncated');
  };
  need(4);
  const supersededCount = buf.readUInt32LE(pos);
  pos += 4;
  need(supersededCount * 32);
  const supersedes: IndexId[] = [];
  for (let i = 0; i < supersededCount; i++, pos += 32)
    supersedes.push(idFromBytes<IndexId>(buf.subarray(pos, pos + 32)));
  need(4);
  const packCount = buf.readUInt32LE(pos);
  pos += 4;
  const packs: IndexedPack[] = [];
  for (let p = 0; p < packCount; p++) {
    need(36);
    const packId = idFromBytes<PackId>(buf.subarray(pos, pos + 32));
    const count = buf.readUInt32LE(pos + 32);
    pos += 36;
    need(count * ENTRY_BYTES);
    const entries: PackEntry[] = [];
    for (let i = 0; i < count; i++, pos += ENTRY_BYTES) {
      const type = blobTypeFromCode(buf[pos]!);
      const compression = buf[pos + 1]!;
      if (type === undefined || compression > 1) fail(`bad entry in pack ${packId}`);
      entries.push({
        type: type!,
        compression: compression as CompressionCode,
        offset: buf.readUInt32LE(pos + 2),
        length: buf.readUInt32LE(pos + 6),
        rawLength: buf.readUInt32LE(pos + 10),
        id: idFromBytes<BlobId>(buf.subarray(pos + 14, pos + 46)),
      });
    }
    packs.push({ packId, entries });
  }
  if (pos !== buf.length) fail('trailing bytes');
  return { supersedes, packs };
}
