/**
 * Blob ids: HMAC-SHA256 of the plaintext under the repository's id key (docs/adr/0003-blob-id.md).
 * Keyed so that an id cannot confirm that a repository holds a known file; SHA-256 because
 * Node runs it with the CPU's SHA extensions.
 */
import { createHash, createHmac } from 'node:crypto';
import type { BlobId } from '../../core/index.js';

export function blobIdOf(idKey: Buffer, plaintext: Uint8Array): BlobId {
  return createHmac('sha256', idKey).update(plaintext).digest('hex') as BlobId;
}

/** Ids of files (packs, indexes, snapshots, keys): plain SHA-256 of the stored bytes. */
export function fileIdOf<T extends string>(bytes: Uint8Array): T {
  return createHash('sha256').update(bytes).digest('hex') as T;
}
