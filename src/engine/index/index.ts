/** index: the compact in-memory map from blob id to its location in a pack. */
export * from './master-index.js';
export * from './blob-id-set.js';
export * from './alternative-locations.js';
