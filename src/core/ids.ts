/**
 * Identifiers. Every id in a repository is 32 bytes, shown as 64 lowercase hex digits. Brands keep
 * a PackId from being passed where a BlobId is expected; the bytes are the same kind.
 */
import { HoldfastError } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Keyed hash of a blob's plaintext (see repository-format.md, "Blob ids"). */
export type BlobId = Brand<string, 'BlobId'>;
/** SHA-256 of a pack file's bytes. */
export type PackId = Brand<string, 'PackId'>;
/** SHA-256 of a snapshot file's bytes. */
export type SnapshotId = Brand<string, 'SnapshotId'>;
/** SHA-256 of an index file's bytes. */
export type IndexId = Brand<string, 'IndexId'>;
/** SHA-256 of a key file's bytes. */
export type KeyId = Brand<string, 'KeyId'>;

export const ID_BYTES = 32;
export const ID_HEX_LENGTH = 64;
const HEX_ID = /^[0-9a-f]{64}$/;

export function isHexId(value: string): boolean {
  return HEX_ID.test(value);
}

/** Validates a 64-hex-digit id and brands it. */
export function parseId<T extends string>(value: string, what: string): T {
  if (!isHexId(value)) {
    throw new HoldfastError('INTEGRITY', `invalid ${what} id "${value.slice(0, 80)}"`);
  }
  return value as T;
}

export function idFromBytes<T extends string>(bytes: Uint8Array): T {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') as T;
}

export function idToBytes(id: string): Buffer {
  return Buffer.from(id, 'hex');
}

/** The 8-digit prefix users see, as restic shows. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
