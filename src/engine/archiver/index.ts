/**
 * archiver: turns filesystem trees and streams into blobs and trees (the backup side of the
 * engine). See repository-format.md, "Trees", and the parent-snapshot rules there. File contents
 * are read, chunked, hashed, compressed and sealed by native file sealers (sealers/: threads
 * without a V8 isolate, docs/adr/0013-native-file-sealers.md); the walk, dedup, packs and trees
 * stay on the main thread. Performance notes: docs/benchmarks.md.
 */
export { fileSealersMade } from './sealers/native-file-sealer.js';
export * from './archiver.js';
export * from './backup-progress.js';
export * from './file-saver.js';
export * from './stream-saver.js';
export * from './tree-saver.js';
export * from './node-from-entry.js';
export * from './backup-targets.js';
export * from './walk-cache.js';
