/**
 * Opening and creating repositories from a location string and a password: the one place where
 * use cases turn "-r LOCATION" into an unlocked Repository.
 */
import { hostname, userInfo } from 'node:os';
import { silentLogger, type Clock, type Logger } from '../core/index.js';
import {
  Repository,
  type ChunkerParams,
  type CompressionMode,
  type KdfCost,
  type ObjectLockConfig,
  type RepositoryConfig,
} from '../engine/index.js';
import {
  isRemoteLocation,
  openCachingStore,
  openStore,
  type StoreOptions,
} from '../storage/index.js';

export interface AccessOptions {
  /** Settings of network backends: --cacert, rest: credentials. */
  readonly store?: StoreOptions;
  /**
   * Root of the local metadata cache (one subdirectory per repository id). Used for remote
   * repositories only; undefined means no cache.
   */
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Worker threads of each backup, restore and check (default: one per core, ≤ 8). */
  readonly workerThreads?: number;
}

export async function openRepository(
  location: string,
  password: string,
  options: AccessOptions = {},
): Promise<Repository> {
  const store = openStore(location, options.store);
  const { cacheDir, logger } = options;
  if (cacheDir === undefined || !isRemoteLocation(location))
    return Repository.open(store, password, options);
  return Repository.open(store, password, {
    ...options,
    cache: (inner, id) => openCachingStore(inner, cacheDir, id, logger ?? silentLogger),
  });
}

export interface CreateOptions extends AccessOptions {
  readonly chunker?: ChunkerParams;
  readonly packSize?: number;
  readonly compression?: CompressionMode;
  readonly kdfCost?: KdfCost;
  readonly contentKeysFrom?: RepositoryConfig;
  /** Object lock for every object written (see engine/retention). */
  readonly objectLock?: ObjectLockConfig;
}

export async function createRepository(
  location: string,
  password: string,
  options: CreateOptions = {},
): Promise<Repository> {
  const store = openStore(location, options.store);
  return Repository.init(store, password, {
    owner: currentOwner(),
    ...(options.clock && { clock: options.clock }),
    ...(options.chunker && { chunker: options.chunker }),
    ...(options.packSize !== undefined && { packSize: options.packSize }),
    ...(options.compression && { compression: options.compression }),
    ...(options.kdfCost && { kdfCost: options.kdfCost }),
    ...(options.contentKeysFrom && { contentKeysFrom: options.contentKeysFrom }),
    ...(options.objectLock && { objectLock: options.objectLock }),
    ...(options.signal && { signal: options.signal }),
  });
}

export function currentOwner(): { username: string; hostname: string } {
  return { username: userInfo().username, hostname: hostname() };
}
