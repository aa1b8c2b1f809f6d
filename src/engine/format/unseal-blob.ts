/**
 * Reading a blob back from a pack (repository-format.md, "Packs"): open the seal, decompress when
 * the pack entry says so, and check that the plaintext has the recorded length and hashes to the
 * blob's id. One function for every reader — the repository on the main thread and the restore
 * workers — so no path can skip a check.
 */
import { HoldfastError, type BlobId } from '../../core/index.js';
import { decompressBlob } from '../compression/index.js';
import { blobIdOf } from '../crypto/index.js';
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
 * With `scratch`, a compressed blob is decompressed into it when it has room: the result is then
 * a view of `scratch`, valid only until the caller's next use of it.
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
  const stored = openBlob(keys.masterKey, type, id, sealed);
  const plain = compression === 1 ? decompressBlob(stored, rawLength, scratch) : stored;
  if (plain.length !== rawLength || blobIdOf(keys.idKey, type, plain) !== id) {
    throw new HoldfastError(
      'INTEGRITY',
      `${type} blob ${id} in ${where}: content does not match its id`,
    );
  }
  return plain;
}
