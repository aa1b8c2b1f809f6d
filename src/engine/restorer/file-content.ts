/**
 * A file's content layout (which blob sits at which offset, and how a large file's blobs are
 * split among the workers), and re-reading a restored file for `--verify`. Writing the content
 * is the restore workers' job (workers/batch-writer.ts).
 */
import { open } from 'node:fs/promises';
import { HoldfastError, type BlobId } from '../../core/index.js';

import type { Node } from '../format/index.js';
import type { BlobLocation } from '../index/index.js';
import type { Repository } from '../repository/index.js';

/** One blob of a file's content: where it goes in the file, where it is stored. */
export interface BlobPart {
  readonly id: BlobId;
  readonly offset: number;
  readonly loc: BlobLocation;
}

/**
 * The blobs of a file at their offsets, each located once (the restore plans its pack reads by
 * these locations). Throws INTEGRITY, naming `path`, for a blob the index does not have.
 */
export function blobOffsets(
  repo: Repository,
  content: readonly BlobId[],
  path: Buffer,
): BlobPart[] {
  let offset = 0;
  return content.map((id) => {
    const loc = repo.locate(id);
    if (!loc)
      throw new HoldfastError(
        'INTEGRITY',
        `${path.toString()}: data blob ${id} is not in the repository index`,
      );
    const item = { id, offset, loc };
    offset += loc.rawLength;
    return item;
  });
}

/**
 * A file's blobs in `count` runs of consecutive offsets with about as many bytes each (fewer runs
 * when single blobs are larger than a run's share).
 */
export function splitRuns(parts: readonly BlobPart[], count: number): BlobPart[][] {
  const total = parts.reduce((n, p) => n + p.loc.rawLength, 0);
  const runs: BlobPart[][] = [];
  let run: BlobPart[] = [];
  let bytes = 0;
  for (const p of parts) {
    run.push(p);
    bytes += p.loc.rawLength;
    if (runs.length < count - 1 && bytes >= (total * (runs.length + 1)) / count) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Re-reads a restored file and checks every blob range against its id (`restore --verify`). */
export async function verifyFileContent(path: Buffer, node: Node, repo: Repository): Promise<void> {
  const parts = blobOffsets(repo, node.content ?? [], path);
  const handle = await open(path, 'r');
  try {
    for (const p of parts) {
      const length = p.loc.rawLength;
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buf, 0, length, p.offset);
      if (bytesRead !== length || repo.blobId('data', buf) !== p.id) {
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
