/**
 * A file's content layout (which blob sits at which offset), writing one blob into an open file
 * (skipping all-zero blocks of sparse files), and re-reading a restored file for `--verify`.
 */
import { open } from 'node:fs/promises';
import { HoldfastError, type BlobId } from '../../core/index.js';

import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';
import { writeAt } from './fd-io.js';

function isAllZero(buf: Buffer): boolean {
  // Compare in 64 KiB steps against a shared zero block: fast and allocation-free.
  for (let pos = 0; pos < buf.length; pos += ZERO.length) {
    const len = Math.min(ZERO.length, buf.length - pos);
    if (buf.compare(ZERO, 0, len, pos, pos + len) !== 0) return false;
  }
  return true;
}
const ZERO = Buffer.alloc(64 * 1024);

export function blobOffsets(
  repo: Repository,
  content: readonly BlobId[],
  what: string,
): { id: BlobId; offset: number; length: number }[] {
  let offset = 0;
  return content.map((id) => {
    const loc = repo.locate(id);
    if (!loc)
      throw new HoldfastError(
        'INTEGRITY',
        `${what}: data blob ${id} is not in the repository index`,
      );
    const item = { id, offset, length: loc.rawLength };
    offset += loc.rawLength;
    return item;
  });
}

/**
 * Writes one blob's plaintext at `offset` of an open file. For a sparse file all-zero blocks are
 * left out (the caller creates the file empty and sets its size at the end), leaving holes.
 */
export async function writeBlob(
  fd: number,
  data: Buffer,
  offset: number,
  sparse: boolean,
): Promise<void> {
  if (sparse) await writeSkippingZeroBlocks(fd, data, offset);
  else await writeAt(fd, data, offset);
}

// File-system block size for hole punching by omission; 4 KiB divides every common block size.
const SPARSE_BLOCK = 4096;

/**
 * Writes `data` at `offset` but leaves out every block (aligned to the file, not the blob) that
 * is all zero: a chunk often spans both data and a hole, and skipping only all-zero blobs would
 * fill the hole. Correct only in a freshly created file, where unwritten bytes read as zero.
 */
async function writeSkippingZeroBlocks(fd: number, data: Buffer, offset: number): Promise<void> {
  let runStart = -1;
  for (let pos = 0; pos < data.length;) {
    const end = Math.min(data.length, pos + SPARSE_BLOCK - ((offset + pos) % SPARSE_BLOCK));
    const zero = isAllZero(data.subarray(pos, end));
    if (zero && runStart >= 0) {
      await writeAt(fd, data.subarray(runStart, pos), offset + runStart);
      runStart = -1;
    } else if (!zero && runStart < 0) runStart = pos;
    pos = end;
  }
  if (runStart >= 0) await writeAt(fd, data.subarray(runStart), offset + runStart);
}

/** Re-reads a restored file and checks every blob range against its id (`restore --verify`). */
export async function verifyFileContent(path: Buffer, node: Node, repo: Repository): Promise<void> {
  const parts = blobOffsets(repo, node.content ?? [], path.toString());
  const handle = await open(path, 'r');
  try {
    for (const p of parts) {
      const buf = Buffer.allocUnsafe(p.length);
      const { bytesRead } = await handle.read(buf, 0, p.length, p.offset);
      if (bytesRead !== p.length || repo.blobId('data', buf) !== p.id) {
        throw new HoldfastError(
          'INTEGRITY',
          `${path.toString()}: restored content at offset ${p.offset} does not match the snapshot`,
        );
      }
    }
  } finally {
    await handle.close();
  }
}
