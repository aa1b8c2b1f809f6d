/**
 * Restores one file's content: fetches its blobs in parallel (bounded by a shared semaphore)
 * and writes each at its offset, so a large file restores at the speed of parallel reads. In a
 * sparse file all-zero blocks are not written and the size is set with ftruncate, leaving holes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { HoldfastError, Semaphore, throwIfAborted, type BlobId } from '../../core/index.js';

import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';

export interface FileWriterContext {
  readonly repo: Repository;
  readonly blobs: Semaphore;
  readonly signal?: AbortSignal;
  readonly onBytes?: (n: number) => void;
}

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

export async function writeFileContent(
  path: Buffer,
  node: Node,
  ctx: FileWriterContext,
): Promise<number> {
  const what = path.toString();
  const parts = blobOffsets(ctx.repo, node.content ?? [], what);
  const size = parts.reduce((n, p) => n + p.length, 0);
  const handle = await open(path, 'w', 0o600);
  try {
    await Promise.all(
      parts.map((p) => ctx.blobs.run(() => writePart(handle, p, node.sparse === true, ctx, what))),
    );
    if (node.sparse === true) await handle.truncate(size);
  } finally {
    await handle.close();
  }
  return size;
}

async function writePart(
  handle: FileHandle,
  p: { id: BlobId; offset: number; length: number },
  sparse: boolean,
  ctx: FileWriterContext,
  what: string,
): Promise<void> {
  throwIfAborted(ctx.signal);
  let data: Buffer;
  try {
    data = await ctx.repo.loadBlob('data', p.id, ctx.signal);
  } catch (err) {
    if (err instanceof HoldfastError)
      throw new HoldfastError(err.code, `${what}: ${err.message}`, {
        cause: err,
        ...(err.hint !== undefined && { hint: err.hint }),
      });
    throw err;
  }
  if (sparse) await writeSkippingZeroBlocks(handle, data, p.offset);
  else await writeFully(handle, data, p.offset);
  ctx.onBytes?.(data.length);
}

async function writeFully(handle: FileHandle, data: Buffer, offset: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const r = await handle.write(data, written, data.length - written, offset + written);
    written += r.bytesWritten;
  }
}

// File-system block size for hole punching by omission; 4 KiB divides every common block size.
const SPARSE_BLOCK = 4096;

/**
 * Writes `data` at `offset` but leaves out every block (aligned to the file, not the blob) that
 * is all zero: a chunk often spans both data and a hole, and skipping only all-zero blobs would
 * fill the hole. Correct only in a freshly created file, where unwritten bytes read as zero.
 */
async function writeSkippingZeroBlocks(
  handle: FileHandle,
  data: Buffer,
  offset: number,
): Promise<void> {
  let runStart = -1;
  for (let pos = 0; pos < data.length;) {
    const end = Math.min(data.length, pos + SPARSE_BLOCK - ((offset + pos) % SPARSE_BLOCK));
    const zero = isAllZero(data.subarray(pos, end));
    if (zero && runStart >= 0) {
      await writeFully(handle, data.subarray(runStart, pos), offset + runStart);
      runStart = -1;
    } else if (!zero && runStart < 0) runStart = pos;
    pos = end;
  }
  if (runStart >= 0) await writeFully(handle, data.subarray(runStart), offset + runStart);
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
