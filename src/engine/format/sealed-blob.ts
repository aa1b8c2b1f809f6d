/**
 * Blob encryption inside packs (repository-format.md, "Packs"). Each blob is sealed under
 * subkey = HMAC-SHA256(master key, "holdfast blob v1" || type || id) with type || id as associated
 * data, so a blob moved to another id or type fails authentication.
 */
import { deriveSubkey, open, seal } from '../crypto/index.js';
import { idToBytes, type BlobId } from '../../core/index.js';
import { BLOB_TYPE_CODES, type BlobType } from './blob-type.js';

function blobContext(type: BlobType, id: BlobId): Buffer {
  const ctx = Buffer.alloc(33);
  ctx[0] = BLOB_TYPE_CODES[type];
  idToBytes(id).copy(ctx, 1);
  return ctx;
}

export function sealBlob(
  masterKey: Buffer,
  type: BlobType,
  id: BlobId,
  stored: Uint8Array,
): Buffer {
  const ctx = blobContext(type, id);
  return seal(deriveSubkey(masterKey, 'holdfast blob v1', ctx), stored, ctx);
}

export function openBlob(
  masterKey: Buffer,
  type: BlobType,
  id: BlobId,
  sealed: Uint8Array,
): Buffer {
  const ctx = blobContext(type, id);
  return open(deriveSubkey(masterKey, 'holdfast blob v1', ctx), sealed, ctx, `${type} blob ${id}`);
}
