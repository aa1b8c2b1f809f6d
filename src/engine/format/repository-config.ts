/**
 * The repository config (repository-format.md, "Config"): written once by init under the fixed
 * name `config`, sealed with the master key. Holds the format version and the content keys that
 * decide chunk boundaries and blob ids — `init --copy-chunker-params` copies them, so a copy
 * deduplicates exactly like its source.
 */
import { HoldfastError } from '../../core/index.js';

export const REPOSITORY_VERSION = 1;

export interface RepositoryConfig {
  version: number;
  /** Random 32-byte id, hex. */
  id: string;
  created: string;
  chunker: { min_size: number; avg_size: number; max_size: number; key: string };
  /** base64 of the 32-byte HMAC key for blob ids. */
  blob_id_key: string;
  pack_size: number;
  compression: 'off' | 'auto' | 'max';
  /** Present when init set up object lock (repository-format.md, "Object lock"). */
  object_lock?: ObjectLockConfig;
}

/** Every object but lock files is retained for `period_seconds`, rounded up to generations. */
export interface ObjectLockConfig {
  mode: 'governance' | 'compliance';
  period_seconds: number;
  generation_seconds: number;
}

function validObjectLock(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const l = value as Partial<ObjectLockConfig>;
  const period = l.period_seconds;
  const generation = l.generation_seconds;
  return (
    (l.mode === 'governance' || l.mode === 'compliance') &&
    Number.isSafeInteger(period) &&
    Number.isSafeInteger(generation) &&
    (generation ?? 0) >= 1 &&
    (generation ?? 0) <= (period ?? 0)
  );
}

export function validateRepositoryConfig(value: unknown): RepositoryConfig {
  const c = value as Partial<RepositoryConfig> | null;
  if (typeof c !== 'object' || c === null || typeof c.version !== 'number') {
    throw new HoldfastError('INTEGRITY', 'repository config is malformed');
  }
  if (c.version > REPOSITORY_VERSION) {
    throw new HoldfastError(
      'UNSUPPORTED_FORMAT',
      `repository format version ${c.version} is newer than this holdfast supports (${REPOSITORY_VERSION})`,
      {
        hint: 'upgrade holdfast to read this repository',
      },
    );
  }
  const keyOk = (k: unknown): boolean =>
    typeof k === 'string' && Buffer.from(k, 'base64').length === 32;
  if (
    c.version < 1 ||
    typeof c.chunker !== 'object' ||
    c.chunker === null ||
    !keyOk(c.chunker.key) ||
    !keyOk(c.blob_id_key) ||
    typeof c.pack_size !== 'number' ||
    typeof c.id !== 'string' ||
    !['off', 'auto', 'max'].includes(c.compression as string) ||
    !validObjectLock(c.object_lock)
  ) {
    throw new HoldfastError('INTEGRITY', 'repository config is malformed');
  }
  return c as RepositoryConfig;
}
