/** Sparse files: which byte ranges hold data, so that holes need not be read or stored as zeros. */
import type { FsEntry } from './fs-entry.js';
import { sparseMap } from './native.js';

/** A run of bytes that holds data; everything between regions reads as zeros. */
export interface DataRegion {
  readonly offset: number;
  readonly length: number;
}

/**
 * The data regions among the first `size` bytes of the open file `fd`, in offset order. `size`
 * should be the size the caller recorded, so the map agrees with it if the file grows. Where the
 * file system cannot report holes the answer is one region over everything (never wrong, only
 * not compact). Leaves the descriptor's offset unchanged. Throws the native error (EBADF, ...).
 */
export function readSparseMap(fd: number, size: number): DataRegion[] {
  return sparseMap(fd, size).map(([offset, length]) => ({ offset, length }));
}

/** Whether a file may have holes worth mapping: fewer blocks allocated than its size needs. */
export function isSparseCandidate(entry: Pick<FsEntry, 'type' | 'sparse' | 'size'>): boolean {
  return entry.type === 'file' && entry.sparse === true && entry.size > 0;
}
