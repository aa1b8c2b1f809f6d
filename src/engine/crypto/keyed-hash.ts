/**
 * Blob ids: HMAC-SHA256 under the repository's id key of the blob type byte (0 data, 1 tree)
 * followed by the plaintext (docs/adr/0003-blob-id-hash.md). Keyed so that an id cannot confirm
 * that a repository holds a known file; the type byte separates the two id spaces, so a file
 * whose bytes equal a tree's encoding can never be deduplicated against that tree; SHA-256
 * because OpenSSL runs it with the CPU's SHA extensions. Computed by the holdfast_crypto addon:
 * one call per blob, no objects created (native-crypto.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import type { BlobId } from '../../core/index.js';
import { blobCrypto } from './native-crypto.js';

/** The type byte before the plaintext. */
export const TYPE_CODES = { data: 0, tree: 1 } as const;

export function blobIdOf(idKey: Buffer, type: 'data' | 'tree', plaintext: Uint8Array): BlobId {
  return blobCrypto().blobId(idKey, TYPE_CODES[type], plaintext) as BlobId;
}

/**
 * blobIdOf over a plaintext that arrives in pieces (a large blob decompressed a piece at a time
 * to be verified, never held whole): `update` each piece in order, then `digest`. One object
 * per blob, so for large blobs only; the same id as blobIdOf.
 */
export function blobIdHasher(
  idKey: Buffer,
  type: 'data' | 'tree',
): { update(piece: Uint8Array): void; digest(): BlobId } {
  const hmac = createHmac('sha256', idKey).update(Uint8Array.of(TYPE_CODES[type]));
  return {
    update: (piece) => void hmac.update(piece),
    digest: () => hmac.digest('hex') as BlobId,
  };
}

/** Ids of files (packs, indexes, snapshots, keys): plain SHA-256 of the stored bytes. */
export function fileIdOf<T extends string>(bytes: Uint8Array): T {
  return createHash('sha256').update(bytes).digest('hex') as T;
}
