/** checker: structural and data verification of a repository (`holdfast check`). */
export * from './checker.js';
