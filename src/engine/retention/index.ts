/**
 * retention: object lock for repositories on WORM storage (repository-format.md, "Object
 * lock"). A RetentionPolicy (mode, period, generation) comes from the config; RetainingStore
 * gives every object but lock files a retain-until date; ObjectLock extends the dates of what a
 * new snapshot depends on, in generations, and deletes only objects whose lock has expired.
 */
export * from './retention-policy.js';
export * from './object-lock.js';
export * from './retaining-store.js';
