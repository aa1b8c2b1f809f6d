/** restorer: writes a snapshot's tree back to a filesystem, contents and every metadata kind. */
export * from './restorer.js';
export * from './file-content.js';
