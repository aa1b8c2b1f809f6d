/**
 * The filesystem Source, both directions. Backup side: statEntry and listDirectory (with
 * read-ahead: DirectoryReader) describe entries as FsEntry (lstat with nanosecond times, symlink targets, extended attributes, owner
 * names), ExcludeMatcher and isCacheDir decide what to leave out, readSparseMap finds the data
 * in sparse files. Restore side: createSpecial and createSymlink make content-less entries,
 * applyMetadata restores owner, attributes, mode and times.
 *
 * Paths and names are Buffers throughout: Linux names are bytes, not necessarily UTF-8. The
 * metadata Node's fs cannot reach (xattrs, nanosecond utimensat, mknod, SEEK_DATA) goes through
 * the holdfast_native addon built by `npm install`. Terminology: docs/design/repository-format.md.
 */
export type { ExtendedAttribute, FsEntry, FsEntryType } from './fs-entry.js';
export { entryTypeOf, MODE_BITS } from './fs-entry.js';
export {
  AccountNames,
  accountFilesDigest,
  parseAccountFile,
  systemAccountNames,
} from './account-names.js';
export type { AccountFiles } from './account-names.js';
export { statEntry } from './stat-entry.js';
export type { StatEntryOptions } from './stat-entry.js';
export { listDirectory } from './list-directory.js';
export type {
  BriefEntry,
  DirectoryListing,
  KnownListing,
  ListDirectoryOptions,
} from './list-directory.js';
export { DirectoryReader } from './directory-reader.js';
export type { DirectoryReaderOptions } from './directory-reader.js';
export { readXattrs } from './read-xattrs.js';
export { openSourceFile } from './open-source-file.js';
export { ExcludeMatcher, parseExcludeFile, readExcludeFile } from './exclude-matcher.js';
export type { ExcludeMatcherOptions } from './exclude-matcher.js';
export { CACHEDIR_TAG_NAME, CACHEDIR_TAG_SIGNATURE, isCacheDir } from './is-cache-dir.js';
export { isSparseCandidate, readSparseMap } from './read-sparse-map.js';
export type { DataRegion } from './read-sparse-map.js';
export { createSpecial, createSymlink } from './create-special.js';
export type { SpecialEntry } from './create-special.js';
export { applyFileMetadata, applyMetadata } from './apply-metadata.js';
export type { ApplyMetadataOptions, FsMetadata } from './apply-metadata.js';
export {
  lgetxattr,
  llistxattr,
  lsetxattr,
  makedev,
  major,
  minor,
  mknod,
  setTimesNs,
  tuneAllocator,
} from './native.js';
export { joinPath } from './path-bytes.js';
