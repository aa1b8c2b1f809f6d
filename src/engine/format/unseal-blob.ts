/**
 * Reading a blob back from a pack (repository-format.md, "Packs"): open the seal, decompress when
 * the pack entry says so, and check that the plaintext has the recorded length and hashes to the
 * blob's id. One function for every reader — the repository on the main thread and the restore
 * workers — so no path can skip a check; verifyBlob checks the same for `check --read-data`,
 * which needs no plaintext, and unsealBlobEach hands a large blob's verified plaintext over a
 * piece at a time (restore workers).
 */
import { HoldfastError, type BlobId } from '../../core/index.js';
import { decompressBlob, decompressBlobEach } from '../compression/index.js';
import { blobIdHasher, blobIdOf, SEAL_OVERHEAD } from '../crypto/index.js';
import type { BlobType } from './blob-type.js';
import { openBlob } from './sealed-blob.js';

/** The two keys a reader needs: the master key (sealing) and the blob id key. */
export interface BlobKeys {
  readonly masterKey: Buffer;
  readonly idKey: Buffer;
}

/**
 * The verified plaintext of blob `id`. Throws INTEGRITY (naming `where`, e.g. "pack 1a2b…") when
 * the seal does not open, the data does not decompress to `rawLength` bytes, or its id differs.
 * With `scratch`, the opened and decompressed bytes go into it when it has room, and the result
 * is a view of it, valid only until the caller's next use of it: a reader that consumes each blob
 * at once reuses one buffer instead of allocating, and later collecting, two per blob. It needs
 * the raw length for a stored blob, and the raw plus the stored length for a compressed one.
 */
export function unsealBlob(
  keys: BlobKeys,
  type: BlobType,
  id: BlobId,
  sealed: Uint8Array,
  compression: number,
  rawLength: number,
  where: string,
  scratch?: Buffer,
): Buffer {
  let plain: Buffer;
  if (compression !== 1) {
    plain = openBlob(keys.masterKey, type, id, sealed, scratch);
  } else {
    // The compressed bytes go after the room the plaintext needs, so they never overlap it.
    const storedLength = sealed.length - SEAL_OVERHEAD;
    const rawRoom = Number.isSafeInteger(rawLength) && rawLength >= 0 ? rawLength : 0;
    const room = scratch !== undefined && scratch.length - rawRoom >= storedLength;
    const stored = openBlob(
      keys.masterKey,
      type,
      id,
      sealed,
      room ? scratch.subarray(rawRoom) : undefined,
    );
    plain = decompressBlob(stored, rawLength, scratch);
  }
  if (plain.length !== rawLength || blobIdOf(keys.idKey, type, plain) !== id)
    throw notItsContent(type, id, where);
  return plain;
}

/** The plaintext opened is not blob `id`'s (unsealBlob, verifyBlob, unsealBlobEach). */
function notItsContent(type: BlobType, id: BlobId, where: string): HoldfastError {
  return new HoldfastError(
    'INTEGRITY',
    `${type} blob ${id} in ${where}: content does not match its id`,
  );
}

/**
 * Compressed plaintext larger than this is verified, and handed over, a piece at a time
 * (verifyBlob, unsealBlobEach): the largest chunks are 8 MiB, and holding one whole doubled what
 * a `check` worker touched and took a restore worker's scratch buffer to 16 MiB.
 */
const VERIFY_WHOLE_UP_TO = 1024 * 1024;
/** Decompressed bytes per piece (verifyBlob, unsealBlobEach). */
const VERIFY_PIECE = 256 * 1024;

/**
 * Checks blob `id` as unsealBlob does, with the same errors, without returning its plaintext: a
 * compressed blob of more than VERIFY_WHOLE_UP_TO bytes is decompressed and hashed a piece at a
 * time, so the memory a check touches is its stored (compressed) length plus a piece, not the
 * raw length as well. `scratch` is used as by unsealBlob.
 */
export function verifyBlob(
  keys: BlobKeys,
  type: BlobType,
  id: BlobId,
  sealed: Uint8Array,
  compression: number,
  rawLength: number,
  where: string,
  scratch?: Buffer,
): void {
  if (!inPieces(compression, rawLength)) {
    unsealBlob(keys, type, id, sealed, compression, rawLength, where, scratch);
    return;
  }
  verifyInPieces(keys, type, id, sealed, rawLength, where, scratch);
}

/**
 * The verified plaintext of blob `id`, given to `visit` with its offset in the blob: whole (one
 * call, as unsealBlob returns it) or, for a compressed blob of more than VERIFY_WHOLE_UP_TO
 * bytes, a piece at a time, each a view valid until `visit` returns. A large blob is verified
 * in full before its first piece is visited (decompressed and hashed piece by piece, then
 * decompressed again for `visit`: its stored bytes, opened once, do not change in between), so
 * `visit` never sees a byte of a blob that fails: it throws unsealBlob's errors first. A blob
 * given whole comes in one call at offset 0 with all its `rawLength` bytes; a piece is always
 * shorter than its blob. The memory touched is the stored length and a piece instead of the raw
 * length as well; `scratch` needs unsealScratchBytes to be used.
 */
export function unsealBlobEach(
  keys: BlobKeys,
  type: BlobType,
  id: BlobId,
  sealed: Uint8Array,
  compression: number,
  rawLength: number,
  where: string,
  scratch: Buffer | undefined,
  visit: (bytes: Buffer, at: number) => void,
): void {
  if (!inPieces(compression, rawLength)) {
    visit(unsealBlob(keys, type, id, sealed, compression, rawLength, where, scratch), 0);
    return;
  }
  const { stored, piece } = verifyInPieces(keys, type, id, sealed, rawLength, where, scratch);
  let at = 0;
  decompressBlobEach(stored, rawLength, piece, (bytes) => {
    visit(bytes, at);
    at += bytes.length;
  });
}

/** The scratch buffer unsealBlobEach uses fully for a blob of these lengths. */
export function unsealScratchBytes(
  compression: number,
  rawLength: number,
  sealedLength: number,
): number {
  const storedLength = sealedLength - SEAL_OVERHEAD;
  if (compression !== 1) return storedLength;
  return inPieces(compression, rawLength) ? storedLength + VERIFY_PIECE : rawLength + storedLength;
}

function inPieces(compression: number, rawLength: number): boolean {
  return compression === 1 && rawLength > VERIFY_WHOLE_UP_TO;
}

/**
 * Opens a large compressed blob and checks it a piece at a time; returns its stored bytes and the
 * piece buffer (in `scratch` when it has room for both, else of their own).
 */
function verifyInPieces(
  keys: BlobKeys,
  type: BlobType,
  id: BlobId,
  sealed: Uint8Array,
  rawLength: number,
  where: string,
  scratch: Buffer | undefined,
): { stored: Buffer; piece: Buffer } {
  const storedLength = sealed.length - SEAL_OVERHEAD;
  const room = scratch !== undefined && scratch.length >= storedLength + VERIFY_PIECE;
  const stored = openBlob(keys.masterKey, type, id, sealed, room ? scratch : undefined);
  const piece = room
    ? scratch.subarray(storedLength, storedLength + VERIFY_PIECE)
    : Buffer.allocUnsafe(VERIFY_PIECE);
  const hasher = blobIdHasher(keys.idKey, type);
  decompressBlobEach(stored, rawLength, piece, (bytes) => hasher.update(bytes));
  if (hasher.digest() !== id) throw notItsContent(type, id, where);
  return { stored, piece };
}
