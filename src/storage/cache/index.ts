/**
 * cache: a local cache of a remote repository's metadata (index and snapshot objects, tree
 * packs), kept in `ROOT/<repository id>/` and trusted only after checking each copy's SHA-256
 * against its name. CacheDirectory owns the files; CachingStore is the ObjectStore decorator
 * that decides what to cache and when a copy may be served. See repository-format.md, "Local
 * cache", and docs/backends.md for the flags and the location.
 */
import { isHexId, type Logger } from '../../core/index.js';
import type { ObjectStore } from '../object-store.js';
import { CacheDirectory } from './cache-directory.js';
import { CachingStore } from './caching-store.js';

export { CACHEDIR_TAG, CacheDirectory } from './cache-directory.js';
export { CachingStore } from './caching-store.js';

/**
 * Wraps `inner` in a cache kept under `root` for the repository `repositoryId`; undefined (no
 * cache) when the id is not 64 hex digits, since it names a directory.
 */
export function openCachingStore(
  inner: ObjectStore,
  root: string,
  repositoryId: string,
  logger: Logger,
): CachingStore | undefined {
  if (!isHexId(repositoryId)) return undefined;
  return new CachingStore(inner, new CacheDirectory(root, repositoryId, logger));
}
