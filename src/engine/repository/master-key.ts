/**
 * The master key and key files: every password unlocks the same 32-byte master key, wrapped in
 * its own key file by a key encryption key derived from that password (repository-format.md, "Keys").
 */
import { randomBytes } from 'node:crypto';
import { HoldfastError, type KeyId } from '../../core/index.js';
import {
  deriveKeyEncryptionKey,
  fileIdOf,
  newKdfParams,
  open,
  seal,
  type KdfCost,
} from '../crypto/index.js';
import { KEY_FILE_AAD, parseKeyFile, type KeyFile } from '../format/index.js';

export function newMasterKey(): Buffer {
  return randomBytes(32);
}

export interface KeyOwner {
  readonly username: string;
  readonly hostname: string;
}

export async function createKeyFile(
  masterKey: Buffer,
  password: string,
  owner: KeyOwner,
  created: Date,
  cost?: KdfCost,
): Promise<{ id: KeyId; bytes: Buffer }> {
  if (password.length === 0) throw new HoldfastError('USAGE', 'an empty password is not allowed');
  const kdf = newKdfParams(cost);
  const kek = await deriveKeyEncryptionKey(password, kdf);
  const payload = Buffer.from(JSON.stringify({ master: masterKey.toString('base64') }));
  const file: KeyFile = {
    version: 1,
    created: created.toISOString(),
    username: owner.username,
    hostname: owner.hostname,
    kdf,
    data: seal(kek, payload, KEY_FILE_AAD).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file, null, 2) + '\n');
  return { id: fileIdOf<KeyId>(bytes), bytes };
}

/** The master key if `password` opens this key file, undefined if it does not. */
export async function unlockKeyFile(
  bytes: Buffer,
  password: string,
  what: string,
): Promise<Buffer | undefined> {
  const file = parseKeyFile(bytes, what);
  const kek = await deriveKeyEncryptionKey(password, file.kdf);
  let payload: Buffer;
  try {
    payload = open(kek, Buffer.from(file.data, 'base64'), KEY_FILE_AAD, what);
  } catch {
    return undefined; // wrong password for this key (or a damaged key file): try the next one
  }
  const master = Buffer.from(
    (JSON.parse(payload.toString('utf8')) as { master: string }).master,
    'base64',
  );
  if (master.length !== 32)
    throw new HoldfastError('INTEGRITY', `${what}: master key has the wrong size`);
  return master;
}
