/**
 * app: the use cases — backup, restore, check, browse (ls, diff, dump, stats), keys, repair,
 * forget, and databases/ (PostgreSQL base backups, WAL archive and PITR; logical dumps).
 * Each takes plain inputs and returns data; cli/ parses arguments and renders the results.
 */
export * from './version.js';
export * from './repository-access.js';
export * from './backup.js';
export * from './restore.js';
export * from './browse.js';
export * from './keys.js';
export * from './repair-index.js';
export * from './forget.js';
export { checkRepository, type CheckResult, type CheckProblem } from '../engine/index.js';
export * from './scanner.js';
export type { Repository, SnapshotEntry } from '../engine/index.js';
export * from './with-lock.js';
export { listLocks, removeLocks } from '../engine/index.js';
export * from './prune.js';
export * from './copy.js';
export * from './databases/index.js';
