/**
 * Key files (repository-format.md, "Keys"): one per password, plaintext JSON holding the scrypt
 * parameters and the master key sealed under the key encryption key derived from the password.
 * The key id is the SHA-256 of the file.
 */
import { HoldfastError } from '../../core/index.js';
import type { KdfParams } from '../crypto/index.js';

export interface KeyFile {
  version: 1;
  created: string;
  username: string;
  hostname: string;
  kdf: KdfParams;
  /** base64 of nonce || AES-256-GCM(kek, master key JSON) || tag, associated data "holdfast key v1". */
  data: string;
}

export const KEY_FILE_AAD = Buffer.from('holdfast key v1');

export function parseKeyFile(bytes: Buffer, what: string): KeyFile {
  let v: Partial<KeyFile>;
  try {
    v = JSON.parse(bytes.toString('utf8')) as Partial<KeyFile>;
  } catch (cause) {
    throw new HoldfastError('INTEGRITY', `${what}: not valid JSON`, { cause });
  }
  if (
    typeof v !== 'object' ||
    v === null ||
    v.version !== 1 ||
    typeof v.data !== 'string' ||
    typeof v.kdf !== 'object' ||
    v.kdf === null
  ) {
    throw new HoldfastError('INTEGRITY', `${what}: not a holdfast key file`);
  }
  return v as KeyFile;
}
