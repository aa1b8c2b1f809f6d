/**
 * A file's content layout (which blob sits at which offset), and re-reading a restored file for
 * `--verify`. Writing the content is the restore workers' job (workers/batch-writer.ts).
 */
import { open } from 'node:fs/promises';
import { HoldfastError, type BlobId } from '../../core/index.js';

import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';

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
