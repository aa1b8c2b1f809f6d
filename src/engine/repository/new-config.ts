/**
 * The Config of a new repository (repository-format.md, "Config"): fresh id and content keys
 * (or another repository's, so copies deduplicate alike), chunker parameters and pack size
 * checked before anything is written.
 */
import { randomBytes } from 'node:crypto';
import { HoldfastError } from '../../core/index.js';
import {
  DEFAULT_CHUNKER_PARAMS,
  validateChunkerParams,
  type ChunkerParams,
} from '../chunker/index.js';
import type { CompressionMode } from '../compression/index.js';
import {
  REPOSITORY_VERSION,
  type ObjectLockConfig,
  type RepositoryConfig,
} from '../format/index.js';

export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

export interface NewConfigOptions {
  readonly chunker?: ChunkerParams;
  readonly packSize?: number;
  readonly compression?: CompressionMode;
  /** Copy chunker and blob-id keys from another repository so copies deduplicate identically. */
  readonly contentKeysFrom?: RepositoryConfig;
  /** Object lock (needs storage with the retention capability); see retention/. */
  readonly objectLock?: ObjectLockConfig;
}

/** Throws CONFIG_INVALID (chunker) or USAGE (pack size) for parameters out of range. */
export function newRepositoryConfig(options: NewConfigOptions, now: Date): RepositoryConfig {
  const chunker = options.chunker ?? DEFAULT_CHUNKER_PARAMS;
  validateChunkerParams(chunker);
  const packSize = options.packSize ?? DEFAULT_PACK_SIZE;
  if (packSize < 4 * 1024 * 1024 || packSize > 128 * 1024 * 1024) {
    throw new HoldfastError('USAGE', `pack size ${packSize} bytes is outside 4 MiB to 128 MiB`, {
      hint: 'see docs/adr/0004-pack-size.md',
    });
  }
  const from = options.contentKeysFrom;
  return {
    version: REPOSITORY_VERSION,
    id: randomBytes(32).toString('hex'),
    created: now.toISOString(),
    chunker: from
      ? { ...from.chunker }
      : {
          min_size: chunker.minSize,
          avg_size: chunker.avgSize,
          max_size: chunker.maxSize,
          key: randomBytes(32).toString('base64'),
        },
    blob_id_key: from ? from.blob_id_key : randomBytes(32).toString('base64'),
    pack_size: packSize,
    compression: options.compression ?? 'auto',
    ...(options.objectLock && { object_lock: { ...options.objectLock } }),
  };
}
