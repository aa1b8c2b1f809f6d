/**
 * format: the bytes holdfast writes — sealed files, sealed blobs, pack headers, index files,
 * trees, snapshots, config and key files. docs/design/repository-format.md is normative; any
 * change here changes it in the same commit.
 */
export * from './blob-type.js';
export * from './pack-entry.js';
export * from './sealed-file.js';
export * from './sealed-blob.js';
export * from './pack-header.js';
export * from './index-file.js';
export * from './index-records.js';
export * from './tree.js';
export * from './snapshot.js';
export * from './repository-config.js';
export * from './key-file.js';
export * from './unseal-blob.js';
