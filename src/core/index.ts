/**
 * core: ids, bytes, errors, clock, logger and progress types. Imports nothing of ours; every
 * other layer builds on it. Terminology follows docs/design/repository-format.md.
 */
export * from './errors.js';
export * from './ids.js';
export * from './clock.js';
export * from './bytes.js';
export * from './progress.js';
export * from './logger.js';
export * from './map-limit.js';
export * from './semaphore.js';
export * from './duration.js';
export * from './start-worker-thread.js';
export * from './stop-workers.js';
export * from './native-addon.js';
