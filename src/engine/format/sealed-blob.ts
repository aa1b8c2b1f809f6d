/**
 * Blob encryption inside packs (repository-format.md, "Packs"). Each blob is sealed under
 * subkey = HMAC-SHA256(master key, "holdfast blob v1" || type || id) with type || id as associated
 * data, so a blob moved to another id or type fails authentication. Same construction as the
 * sealed files' (crypto/aead.ts), computed by the holdfast_crypto addon into the caller's buffer:
 * the per-blob paths run it tens of thousands of times per backup.
 */
import { blobCrypto, SEAL_OVERHEAD } from '../crypto/index.js';
import { HoldfastError, idToBytes, type BlobId } from '../../core/index.js';
import { BLOB_TYPE_CODES, type BlobType } from './blob-type.js';

const BLOB_LABEL = Buffer.from('holdfast blob v1');

function blobContext(type: BlobType, id: BlobId): Buffer {
  const ctx = Buffer.allocUnsafe(33);
  ctx[0] = BLOB_TYPE_CODES[type];
  idToBytes(id).copy(ctx, 1);
  return ctx;
}

/**
 * The sealed blob in a new buffer (nonce || ciphertext || tag) of its own: a sealed blob waits
 * in its pack until the pack is stored, and a small one cut out of Node's shared 8 KiB pool
 * (Buffer.allocUnsafe) would keep the whole pool alive that long — a tree pack's thousands of
 * small trees held ≈ 8 KiB each.
 */
export function sealBlob(
  masterKey: Buffer,
  type: BlobType,
  id: BlobId,
  stored: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafeSlow(stored.length + SEAL_OVERHEAD);
  sealBlobInto(masterKey, type, id, stored, out, 0);
  return out;
}

/** Seals into out[offset]; returns the sealed length (stored.length + SEAL_OVERHEAD). */
export function sealBlobInto(
  masterKey: Buffer,
  type: BlobType,
  id: BlobId,
  stored: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  const ctx = blobContext(type, id);
  return blobCrypto().sealInto(masterKey, BLOB_LABEL, ctx, stored, out, offset);
}

/**
 * The stored bytes of a sealed blob; throws INTEGRITY when the seal does not authenticate. With
 * `into` long enough, they are written there and the result is a view of it; otherwise a new
 * buffer. `into` must not overlap `sealed`.
 */
export function openBlob(
  masterKey: Buffer,
  type: BlobType,
  id: BlobId,
  sealed: Uint8Array,
  into?: Buffer,
): Buffer {
  const length = sealed.length - SEAL_OVERHEAD;
  if (length < 0) {
    throw new HoldfastError(
      'INTEGRITY',
      `${type} blob ${id}: ciphertext too short (${sealed.length} bytes)`,
    );
  }
  const out = into !== undefined && into.length >= length ? into : Buffer.allocUnsafe(length);
  const opened = blobCrypto().openInto(
    masterKey,
    BLOB_LABEL,
    blobContext(type, id),
    sealed,
    out,
    0,
  );
  if (opened !== length) {
    throw new HoldfastError(
      'INTEGRITY',
      `${type} blob ${id}: authentication failed (data damaged or tampered)`,
      { hint: 'run "holdfast check --read-data" to find every damaged object' },
    );
  }
  return out.subarray(0, length);
}
