/**
 * copier: copies trees and blobs from one repository into another (`holdfast copy`), rewriting
 * ids when the repositories' blob-id keys differ. See docs/design/repository-format.md,
 * "Ordering" (packs, then index, then snapshot) and the copy section of docs/backends.md.
 */
export * from './copier.js';
export * from './parent-pair.js';
