/** lock: shared and exclusive repository locks with stale-lock detection (repository-format.md, "Locks"). */
export * from './repository-lock.js';
