/**
 * Sealed files: the envelope of every encrypted file that is not a pack (config, index,
 * snapshot, lock) and of each pack's header. repository-format.md, "Sealed files":
 *
 *   version (1 byte, = 1) || kind (1 byte) || salt (16 random bytes) || nonce || ciphertext || tag
 *
 * subkey = HMAC-SHA256(master key, "holdfast file v1" || kind || salt); the first 18 bytes are the
 * associated data, so a file cannot be replayed as another kind.
 */
import { randomBytes } from 'node:crypto';
import { HoldfastError } from '../../core/index.js';
import { deriveSubkey, open, seal } from '../crypto/index.js';

export const SEALED_FILE_VERSION = 1;
export const SALT_BYTES = 16;
const HEAD_BYTES = 2 + SALT_BYTES;

export const SEALED_KINDS = {
  config: 1,
  index: 2,
  snapshot: 3,
  lock: 4,
  'pack-header': 5,
  /** Never stored in a repository: the local walk cache (repository-format.md §2.5). */
  'walk-cache': 6,
} as const;
export type SealedKind = keyof typeof SEALED_KINDS;

export function sealFile(masterKey: Buffer, kind: SealedKind, plaintext: Uint8Array): Buffer {
  const head = Buffer.alloc(HEAD_BYTES);
  head[0] = SEALED_FILE_VERSION;
  head[1] = SEALED_KINDS[kind];
  randomBytes(SALT_BYTES).copy(head, 2);
  const key = deriveSubkey(masterKey, 'holdfast file v1', head.subarray(1));
  return Buffer.concat([head, seal(key, plaintext, head)]);
}

export function openFile(
  masterKey: Buffer,
  kind: SealedKind,
  bytes: Uint8Array,
  what: string,
): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEAD_BYTES) {
    throw new HoldfastError('INTEGRITY', `${what}: file too short (${buf.length} bytes)`);
  }
  if (buf[0] !== SEALED_FILE_VERSION) {
    throw new HoldfastError('UNSUPPORTED_FORMAT', `${what}: unknown envelope version ${buf[0]}`, {
      hint: 'this repository may have been written by a newer holdfast; upgrade holdfast',
    });
  }
  if (buf[1] !== SEALED_KINDS[kind]) {
    throw new HoldfastError('INTEGRITY', `${what}: not a ${kind} file (kind byte ${buf[1]})`);
  }
  const head = buf.subarray(0, HEAD_BYTES);
  const key = deriveSubkey(masterKey, 'holdfast file v1', head.subarray(1));
  return open(key, buf.subarray(HEAD_BYTES), head, what);
}

export function sealJson(masterKey: Buffer, kind: SealedKind, value: unknown): Buffer {
  return sealFile(masterKey, kind, Buffer.from(JSON.stringify(value), 'utf8'));
}

export function openJson(
  masterKey: Buffer,
  kind: SealedKind,
  bytes: Uint8Array,
  what: string,
): unknown {
  const plain = openFile(masterKey, kind, bytes, what);
  try {
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch (cause) {
    throw new HoldfastError('INTEGRITY', `${what}: authenticated but not valid JSON`, { cause });
  }
}
