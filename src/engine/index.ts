/**
 * engine: the repository engine — chunker, crypto, compression, format, index, repository,
 * and the workers archiver, restorer and checker. Normative description:
 * docs/design/repository-format.md.
 */
export * from './chunker/index.js';
export * from './compression/index.js';
export * from './crypto/index.js';
export * from './format/index.js';
export * from './index/index.js';
export * from './repository/index.js';
export * from './archiver/index.js';
export * from './restorer/index.js';
export * from './checker/index.js';
export * from './lock/index.js';
export * from './pruner/index.js';
export * from './copier/index.js';
export * from './retention/index.js';
export { PackSpool } from './spool/pack-spool.js';
