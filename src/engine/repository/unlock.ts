/**
 * Unlocking a repository with a password: the first Key file that the password opens and whose
 * master key opens the repository's config (repository-format.md, "Keys").
 */
import { fileIdOf } from '../crypto/index.js';
import { HoldfastError, throwIfAborted, type KeyId } from '../../core/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { openJson } from '../format/index.js';
import { unlockKeyFile } from './master-key.js';

export async function unlockWithPassword(
  store: ObjectStore,
  password: string,
  configBytes: Buffer,
  signal?: AbortSignal,
): Promise<{ masterKey: Buffer; keyId: KeyId }> {
  const opt = signal ? { signal } : {};
  const names: string[] = [];
  for await (const info of store.list('key', opt)) names.push(info.name);
  for (const name of names) {
    throwIfAborted(signal);
    const bytes = await store.get('key', name, undefined, opt);
    // A damaged or forged key file must not stop the other keys from being tried.
    if (fileIdOf(bytes) !== name) continue;
    let masterKey: Buffer | undefined;
    try {
      masterKey = await unlockKeyFile(bytes, password, `key ${name}`);
    } catch (err) {
      if (
        err instanceof HoldfastError &&
        (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT')
      )
        continue;
      throw err;
    }
    // The key must open this repository's config (an orphan key of an interrupted init may not).
    if (masterKey && opensConfig(masterKey, configBytes))
      return { masterKey, keyId: name as KeyId };
  }
  throw new HoldfastError('WRONG_PASSWORD', 'wrong password or no key found', {
    hint: 'check HOLDFAST_PASSWORD / --password-file; "holdfast key list" shows the keys of a repository',
  });
}

function opensConfig(masterKey: Buffer, configBytes: Buffer): boolean {
  try {
    openJson(masterKey, 'config', configBytes, 'config');
    return true;
  } catch {
    return false;
  }
}
