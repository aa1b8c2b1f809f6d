/** checker: structural and data verification of a repository (`holdfast check`). */
export * from './checker.js';
export { packCheckersMade, QUEUED } from './pack-check-pool.js';
