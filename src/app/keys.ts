/** Key management: list, add, remove, change password. Every key unlocks the same master key. */
import { HoldfastError, type KeyId } from '../core/index.js';
import { parseKeyFile, type KdfCost, type Repository } from '../engine/index.js';
import { currentOwner } from './repository-access.js';

export interface KeyInfo {
  readonly id: KeyId;
  readonly current: boolean;
  readonly userName: string;
  readonly hostName: string;
  readonly created: string;
}

export async function listKeys(repo: Repository): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for await (const info of repo.store.list('key')) {
    const file = parseKeyFile(await repo.store.get('key', info.name), `key ${info.name}`);
    out.push({
      id: info.name as KeyId,
      current: info.name === repo.keyId,
      userName: file.username,
      hostName: file.hostname,
      created: file.created,
    });
  }
  return out.sort((a, b) => a.created.localeCompare(b.created));
}

export async function addKey(
  repo: Repository,
  newPassword: string,
  cost?: KdfCost,
): Promise<KeyId> {
  return repo.addKey(newPassword, currentOwner(), cost);
}

export async function removeKey(repo: Repository, ref: string): Promise<KeyId> {
  const keys = await listKeys(repo);
  const matches = keys.filter((k) => k.id.startsWith(ref));
  if (matches.length !== 1) {
    throw new HoldfastError(
      matches.length ? 'AMBIGUOUS_ID' : 'NOT_FOUND',
      matches.length ? `key prefix ${ref} is ambiguous` : `no key ${ref}`,
      { hint: 'see "holdfast key list"' },
    );
  }
  const key = matches[0]!;
  if (key.current) {
    throw new HoldfastError('USAGE', 'refusing to remove the key in use', {
      hint: 'open the repository with another password to remove this key, or use "key passwd"',
    });
  }
  // Object lock: never try to delete a locked key; say until when it keeps opening the repository.
  const { retainedUntil } = await repo.deleteObject('key', key.id);
  if (retainedUntil) {
    throw new HoldfastError(
      'STORAGE_FAILED',
      `key ${key.id.slice(0, 8)} is retained by object lock until ${retainedUntil.toISOString()} and was not removed`,
      {
        hint: 'its password keeps opening the repository until then; remove the key after that date',
      },
    );
  }
  return key.id;
}

/** Adds a key for the new password, then removes the key in use: never a moment without a key. */
export async function changePassword(
  repo: Repository,
  newPassword: string,
  cost?: KdfCost,
): Promise<KeyId> {
  const id = await repo.addKey(newPassword, currentOwner(), cost);
  const { retainedUntil } = await repo.deleteObject('key', repo.keyId);
  if (retainedUntil)
    repo.logger.warn(
      `the old key ${repo.keyId.slice(0, 8)} is retained by object lock until ${retainedUntil.toISOString()}: the old password opens the repository until then`,
    );
  return id;
}
