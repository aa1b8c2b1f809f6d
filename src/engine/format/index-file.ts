/**
 * Index files (repository-format.md, "Indexes"): which blobs live in which pack, at what offset.
 * Sealed (kind index) binary plaintext:
 *
 *   version (1) || superseded count (u32) || superseded index ids (32 each)
 *   || pack count (u32) || per pack: pack id (32) || blob count (u32) || blob count × entry
 *   entry = type (u8) || compression (u8) || offset (u32) || length (u32) || raw length (u32) || id (32)
 *   || deletion count (u32) || per deletion: pack count (u32) || pack ids (32 each)
 *      || session count (u32) || sessions (16 bytes each)
 *
 * "Superseded" names index files this one replaces (written by repair and prune); readers
 * ignore a superseded index once the superseding one is present. "Deletions" are prune's
 * pending deletions: packs already removed from the index that may be deleted once none of the
 * listed lock sessions (operations running when they were unindexed) is alive.
 */
import {
  HoldfastError,
  idFromBytes,
  idToBytes,
  type BlobId,
  type IndexId,
  type PackId,
} from '../../core/index.js';
import { blobTypeFromCode } from './blob-type.js';
import type { CompressionCode, PackEntry } from './pack-entry.js';
import { IndexRecords, INDEX_ENTRY_BYTES as ENTRY_BYTES, writeEntry } from './index-records.js';
import { openFile, sealFile } from './sealed-file.js';

export const INDEX_VERSION = 1;

export interface IndexedPack {
  readonly packId: PackId;
  readonly entries: readonly PackEntry[];
}

/** A pack whose entries are kept encoded (IndexRecords.encode): written as they are. */
export interface RecordedPack {
  readonly packId: PackId;
  readonly records: IndexRecords;
}

/** Packs prune unindexed; deletable once none of `sessions` (lock session ids, hex) is alive. */
export interface PendingDeletion {
  readonly packs: readonly PackId[];
  readonly sessions: readonly string[];
}

export interface IndexFileContent {
  readonly supersedes: readonly IndexId[];
  readonly packs: readonly IndexedPack[];
  readonly deletions?: readonly PendingDeletion[];
}

/** What encodeIndexFile takes: packs as objects, or with their entries already encoded. */
export interface IndexFileInput extends Omit<IndexFileContent, 'packs'> {
  readonly packs: readonly (IndexedPack | RecordedPack)[];
}

const SESSION_BYTES = 16;

export function encodeIndexFile(masterKey: Buffer, content: IndexFileInput): Buffer {
  let size = 1 + 4 + 32 * content.supersedes.length + 4;
  for (const p of content.packs) size += 32 + 4 + entryCount(p) * ENTRY_BYTES;
  const deletions = content.deletions ?? [];
  size += 4;
  for (const d of deletions)
    size += 4 + 32 * d.packs.length + 4 + SESSION_BYTES * d.sessions.length;
  const buf = Buffer.alloc(size);
  buf[0] = INDEX_VERSION;
  let pos = 1;
  pos = buf.writeUInt32LE(content.supersedes.length, pos);
  for (const id of content.supersedes) pos += idToBytes(id).copy(buf, pos);
  pos = buf.writeUInt32LE(content.packs.length, pos);
  for (const p of content.packs) {
    pos += idToBytes(p.packId).copy(buf, pos);
    pos = buf.writeUInt32LE(entryCount(p), pos);
    if ('records' in p) {
      pos += p.records.copyTo(buf, pos);
      continue;
    }
    for (const e of p.entries) {
      writeEntry(buf, pos, e);
      pos += ENTRY_BYTES;
    }
  }
  pos = buf.writeUInt32LE(deletions.length, pos);
  for (const d of deletions) {
    pos = buf.writeUInt32LE(d.packs.length, pos);
    for (const id of d.packs) pos += idToBytes(id).copy(buf, pos);
    pos = buf.writeUInt32LE(d.sessions.length, pos);
    for (const s of d.sessions) pos += Buffer.from(s, 'hex').copy(buf, pos);
  }
  return sealFile(masterKey, 'index', buf);
}

function entryCount(p: IndexedPack | RecordedPack): number {
  return 'records' in p ? p.records.count : p.entries.length;
}

export function decodeIndexFile(masterKey: Buffer, bytes: Buffer, what: string): IndexFileContent {
  return decodeIndexPlaintext(openFile(masterKey, 'index', bytes, what), what);
}

/**
 * An Index file authenticated and checked through, but not decoded into objects: loading a
 * large index holds every file's plaintext (46 bytes per blob) and decodes one file at a time,
 * instead of holding every file's entries as objects at once (≈ 176 bytes per blob).
 */
export interface IndexPlaintext {
  readonly supersedes: readonly IndexId[];
  readonly packCount: number;
  readonly entryCount: number;
  /** Each pack's id and entries, read in place (nothing here can fail: the file was checked). */
  eachPack(visit: (packId: PackId, records: IndexRecords) => void): void;
  /** The pending deletions (few and small: decoded when the file was opened). */
  deletions(): readonly PendingDeletion[];
  /** Decodes the whole file into objects. */
  decode(): IndexFileContent;
}

/** Opens and checks an Index file; damage throws INTEGRITY (or UNSUPPORTED_FORMAT) now. */
export function openIndexFile(masterKey: Buffer, bytes: Buffer, what: string): IndexPlaintext {
  const plaintext = openFile(masterKey, 'index', bytes, what);
  const checked = parseIndex(plaintext, what, false);
  const entryCount = checked.counts.reduce((sum, n) => sum + n, 0);
  return {
    supersedes: checked.content.supersedes,
    packCount: checked.counts.length,
    entryCount,
    eachPack: (visit) => {
      checked.packsAt.forEach((at, p) =>
        visit(
          idFromBytes<PackId>(plaintext.subarray(at, at + 32)),
          new IndexRecords(plaintext, at + 36, checked.counts[p]!),
        ),
      );
    },
    deletions: () => checked.content.deletions ?? [],
    decode: () => decodeIndexPlaintext(plaintext, what),
  };
}

function decodeIndexPlaintext(buf: Buffer, what: string): IndexFileContent {
  return parseIndex(buf, what, true).content;
}

/**
 * Parses an Index file's plaintext, checking all of it; only with `build` are the entries
 * turned into objects (`counts` and `packsAt` give each pack's entry count and where
 * its pack id starts, either way).
 */
function parseIndex(
  buf: Buffer,
  what: string,
  build: boolean,
): { content: IndexFileContent; counts: number[]; packsAt: number[] } {
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
  const counts: number[] = [];
  const packsAt: number[] = [];
  for (let p = 0; p < packCount; p++) {
    need(36);
    const count = buf.readUInt32LE(pos + 32);
    counts.push(count);
    packsAt.push(pos);
    const packAt = pos;
    const packId = (): PackId => idFromBytes<PackId>(buf.subarray(packAt, packAt + 32));
    pos += 36;
    need(count * ENTRY_BYTES);
    const entries: PackEntry[] = [];
    for (let i = 0; i < count; i++, pos += ENTRY_BYTES) {
      const type = blobTypeFromCode(buf[pos]!);
      const compression = buf[pos + 1]!;
      if (type === undefined || compression > 1) fail(`bad entry in pack ${packId()}`);
      if (!build) continue;
      entries.push({
        type: type!,
        compression: compression as CompressionCode,
        offset: buf.readUInt32LE(pos + 2),
        length: buf.readUInt32LE(pos + 6),
        rawLength: buf.readUInt32LE(pos + 10),
        id: idFromBytes<BlobId>(buf.subarray(pos + 14, pos + 46)),
      });
    }
    if (build) packs.push({ packId: packId(), entries });
  }
  need(4);
  const deletionCount = buf.readUInt32LE(pos);
  pos += 4;
  const deletions: PendingDeletion[] = [];
  for (let d = 0; d < deletionCount; d++) {
    need(4);
    const pc = buf.readUInt32LE(pos);
    pos += 4;
    need(pc * 32 + 4);
    const dp: PackId[] = [];
    for (let i = 0; i < pc; i++, pos += 32)
      dp.push(idFromBytes<PackId>(buf.subarray(pos, pos + 32)));
    const sc = buf.readUInt32LE(pos);
    pos += 4;
    need(sc * SESSION_BYTES);
    const sessions: string[] = [];
    for (let i = 0; i < sc; i++, pos += SESSION_BYTES)
      sessions.push(buf.subarray(pos, pos + SESSION_BYTES).toString('hex'));
    deletions.push({ packs: dp, sessions });
  }
  if (pos !== buf.length) fail('trailing bytes');
  return { content: { supersedes, packs, deletions }, counts, packsAt };
}
