/**
 * Authenticated encryption of every object holdfast writes (repository-format.md, "Encryption").
 *
 * AES-256-GCM with a 96-bit random nonce under a *subkey*: subkey = HMAC-SHA256(masterKey,
 * label || context). For a blob the context is its type and id, so each subkey only ever
 * encrypts one plaintext (re-encryptions of identical data are harmless); for files (index,
 * snapshot, pack header, config, lock) the context is a 16-byte random salt stored in the file.
 * Either way a subkey sees a handful of encryptions, so random nonces never repeat in practice,
 * far below GCM's 2^32-messages-per-key limit, and workers can encrypt without coordinating.
 *
 * Sealed layout: nonce (12) || ciphertext || tag (16).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { HoldfastError } from '../../core/index.js';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const KEY_BYTES = 32;

/** Derives the subkey for one context. Labels separate uses so no two share a subkey. */
export function deriveSubkey(masterKey: Buffer, label: string, context: Uint8Array): Buffer {
  return createHmac('sha256', masterKey).update(label).update(context).digest();
}

export function seal(key: Buffer, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([nonce, head, tail, cipher.getAuthTag()], SEAL_OVERHEAD + plaintext.length);
}

/** Decrypts and authenticates; any tampering throws HoldfastError INTEGRITY naming `what`. */
export function open(key: Buffer, sealed: Uint8Array, aad: Uint8Array, what: string): Buffer {
  if (sealed.length < SEAL_OVERHEAD) {
    throw new HoldfastError('INTEGRITY', `${what}: ciphertext too short (${sealed.length} bytes)`);
  }
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = buf.subarray(0, NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    const head = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch (cause) {
    throw new HoldfastError(
      'INTEGRITY',
      `${what}: authentication failed (data damaged or tampered)`,
      {
        cause,
        hint: 'run "holdfast check --read-data" to find every damaged object',
      },
    );
  }
}
