/**
 * storage: where repository objects live. An ObjectStore holds opaque byte strings addressed by
 * an object kind (config, key, pack, index, snapshot, lock) and a name (the config is named
 * "config", everything else by a 64-hex-digit id). Objects are write-once: a put never replaces
 * an existing object, which keeps object-locked (WORM) buckets usable and concurrent writers safe.
 * Backends (local/, memory/) implement only the contract in object-store.ts; cross-cutting
 * behaviour (retry, read-only) lives in decorators/ that wrap any store, and cache/ keeps local
 * copies of a remote repository's metadata. Every backend runs the
 * conformance suite in testing/conformance.ts (imported directly by tests, not exported here,
 * because it loads node:test). See docs/design/repository-format.md, "Storage".
 */
export * from './object-store.js';
export * from './object-name.js';
export * from './store-operation.js';
export * from './open-store.js';
export { rangePastEnd } from './store-errors.js';
export { LocalStore, type LocalStoreOptions } from './local/local-store.js';
export { MemoryStore, type MemoryObjects, type MemoryStoreOptions } from './memory/memory-store.js';
export { RetryingStore, type RetryEvent, type RetryOptions } from './decorators/retrying-store.js';
export { ReadOnlyStore } from './decorators/read-only-store.js';
export { CACHEDIR_TAG, CacheDirectory, CachingStore, openCachingStore } from './cache/index.js';
export { RestStore, type RestStoreOptions } from './rest/rest-store.js';
// S3Store itself is not re-exported: importing it loads the AWS SDK (about 0.3 s), which openStore
// defers until an s3: repository is used. Code that needs the class imports storage/s3/index.js.
export { parseS3Location, type S3Location } from './s3/s3-location.js';
export type { S3Credentials } from './s3/s3-client.js';
export type { S3StoreOptions } from './s3/s3-store.js';
export { RateLimitStore, type RateLimits } from './decorators/rate-limit-store.js';
export { isTransientError, markTransient } from './decorators/transient-error.js';
export type { Sleep } from './decorators/backoff.js';
export { FaultyStore, type FaultRule, type FaultyStoreOptions } from './testing/faulty-store.js';
