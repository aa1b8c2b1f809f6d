/**
 * The blob ids a repository gives `data` as one file's content: its chunks as the chunker cuts
 * them whole, named by the repository's id key. What a backup of that content must record,
 * whichever path (worker, stream, main thread) cut and named it.
 */
import type { BlobId } from '../core/index.js';
import { chunkLengths, type Repository } from '../engine/index.js';

export function chunkIds(repo: Repository, data: Buffer): BlobId[] {
  let at = 0;
  return chunkLengths(repo.chunkerKey, repo.chunkerParams, data).map((n) => {
    at += n;
    return repo.blobId('data', data.subarray(at - n, at));
  });
}
