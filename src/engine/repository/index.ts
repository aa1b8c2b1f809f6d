/**
 * repository: an unlocked repository (config, master key, index) and its read and write paths.
 * Ordering rules of repository-format.md: packs, then index, then snapshot.
 */
export * from './repository.js';
export * from './blob-writer.js';
export * from './master-key.js';
export * from './find-snapshot.js';
export * from './tree-walk.js';
export * from './commit-guard.js';
export * from './pack-header-reader.js';
export type { IndexFile } from './index-files.js';
export type { SnapshotEntry } from './snapshot-files.js';
export { DEFAULT_PACK_SIZE } from './new-config.js';
