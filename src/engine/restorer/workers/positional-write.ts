/**
 * Writing one blob's plaintext at its offset of an open file, synchronously (a file worker does
 * nothing else meanwhile, and a write into the page cache costs less than a thread-pool hop).
 * For a sparse file all-zero blocks are left out, so they stay holes.
 */
import { writeSync } from 'node:fs';

// File-system block size for hole punching by omission; 4 KiB divides every common block size.
const SPARSE_BLOCK = 4096;
const ZERO = Buffer.alloc(64 * 1024);

/** Writes all of `data` at `position`, continuing after short writes. */
export function writeAt(fd: number, data: Uint8Array, position: number): void {
  for (let done = 0; done < data.length;)
    done += writeSync(fd, data, done, data.length - done, position + done);
}

/**
 * Writes `data` at `offset`; with `sparse`, leaves out every block (aligned to the file, not the
 * blob) that is all zero: a chunk often spans both data and a hole, and skipping only all-zero
 * blobs would fill the hole. Sparse writing is correct only in a freshly created file, where
 * unwritten bytes read as zero, and the caller sets the file's size at the end.
 */
export function writeBlob(fd: number, data: Buffer, offset: number, sparse: boolean): void {
  if (!sparse) return writeAt(fd, data, offset);
  let runStart = -1;
  for (let pos = 0; pos < data.length;) {
    const end = Math.min(data.length, pos + SPARSE_BLOCK - ((offset + pos) % SPARSE_BLOCK));
    const zero = isAllZero(data.subarray(pos, end));
    if (zero && runStart >= 0) {
      writeAt(fd, data.subarray(runStart, pos), offset + runStart);
      runStart = -1;
    } else if (!zero && runStart < 0) runStart = pos;
    pos = end;
  }
  if (runStart >= 0) writeAt(fd, data.subarray(runStart), offset + runStart);
}

function isAllZero(buf: Buffer): boolean {
  // Compare in 64 KiB steps against a shared zero block: fast and allocation-free.
  for (let pos = 0; pos < buf.length; pos += ZERO.length) {
    const len = Math.min(ZERO.length, buf.length - pos);
    if (buf.compare(ZERO, 0, len, pos, pos + len) !== 0) return false;
  }
  return true;
}
