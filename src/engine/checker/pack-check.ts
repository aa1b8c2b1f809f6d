/**
 * Checking one whole pack (`check --read-data`): its SHA-256 against its name, its header against
 * the index, and every blob the index places in it opened, decompressed and re-hashed against its
 * id (unsealBlob, the one path every reader takes). Pure computation over the pack's bytes, so it
 * runs on a pack check worker (workers/) without anything of the repository but its keys.
 */
import { describeError, type BlobId, type PackId } from '../../core/index.js';
import { fileIdOf } from '../crypto/index.js';
import { decodePackHeader, unsealBlob, type BlobKeys, type PackEntry } from '../format/index.js';

export interface PackProblem {
  readonly object: string;
  readonly message: string;
}

export interface PackCheckOutcome {
  readonly problems: PackProblem[];
  /** Blobs that did not open or verify. */
  readonly damaged: BlobId[];
  readonly blobsChecked: number;
}

/**
 * Checks `bytes`, the whole of pack `packId`, against `entries` (what the index says it holds).
 * A damaged blob is reported and the others are still checked. `scratch` receives decompressed
 * blobs that fit (see unsealBlob).
 */
export function checkPack(
  keys: BlobKeys,
  packId: PackId,
  bytes: Buffer,
  entries: readonly PackEntry[],
  scratch?: Buffer,
): PackCheckOutcome {
  const problems: PackProblem[] = [];
  const damaged: BlobId[] = [];
  const where = `pack ${packId}`;
  if (fileIdOf(bytes) !== packId)
    problems.push({ object: where, message: 'content does not match its name (damaged)' });
  let header: PackEntry[] = [];
  try {
    header = decodePackHeader(keys.masterKey, bytes, bytes.length, where);
  } catch (err) {
    problems.push({ object: where, message: describeError(err) });
  }
  const headerIds = new Set(header.map((h) => `${h.id}:${h.offset}`));
  for (const e of entries) {
    if (header.length > 0 && !headerIds.has(`${e.id}:${e.offset}`))
      problems.push({
        object: where,
        message: `index lists blob ${e.id} the pack header does not`,
      });
    try {
      const sealed = bytes.subarray(e.offset, e.offset + e.length);
      unsealBlob(keys, e.type, e.id, sealed, e.compression, e.rawLength, where, scratch);
    } catch (err) {
      damaged.push(e.id);
      problems.push({ object: `blob ${e.id}`, message: describeError(err) });
    }
  }
  return { problems, damaged, blobsChecked: entries.length };
}
