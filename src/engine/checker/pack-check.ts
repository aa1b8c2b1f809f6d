/**
 * Checking one whole pack (`check --read-data`): its SHA-256 against its name, its header against
 * the index, and every blob the index places in it opened, decompressed and re-hashed against its
 * id (unsealBlob, the one path every reader takes). Pure computation over the pack's bytes, so it
 * runs on a pack check worker (workers/) without anything of the repository but its keys.
 *
 * The pack is read front to back once, a window at a time (PackReader): each window is hashed
 * and the blobs that lie wholly in it are opened, so a worker needs memory for a window and its
 * largest blob, not for the whole pack.
 */
import { createHash } from 'node:crypto';
import { describeError, type BlobId, type PackId } from '../../core/index.js';
import {
  decodePackHeader,
  PACK_TRAILER_BYTES,
  unsealBlob,
  type BlobKeys,
  type PackEntry,
} from '../format/index.js';

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
 * `length` bytes of the pack from `offset`: a view valid until the next call, shorter only where
 * the pack ends (it may have shrunk since its size was taken). What it throws (the pack could not
 * be read) ends the check of the pack and is thrown on.
 */
export type PackReader = (offset: number, length: number) => Buffer;

/** Bytes hashed per read, unless one blob is larger (it is read whole). */
export const CHECK_WINDOW = 1024 * 1024;

/** checkPackFrom over a pack held whole in memory. */
export function checkPack(
  keys: BlobKeys,
  packId: PackId,
  bytes: Buffer,
  entries: readonly PackEntry[],
  scratch?: Buffer,
): PackCheckOutcome {
  const read: PackReader = (offset, length) => bytes.subarray(offset, offset + length);
  return checkPackFrom(keys, packId, bytes.length, read, entries, scratch);
}

/**
 * Checks pack `packId` of `size` bytes, read through `read`, against `entries` (what the index
 * says it holds). A damaged blob is reported and the others are still checked. `scratch`
 * receives decompressed blobs that fit (see unsealBlob).
 */
export function checkPackFrom(
  keys: BlobKeys,
  packId: PackId,
  size: number,
  read: PackReader,
  entries: readonly PackEntry[],
  scratch?: Buffer,
): PackCheckOutcome {
  const where = `pack ${packId}`;
  const failed = new Map<PackEntry, string>();
  const open = (e: PackEntry, sealed: Buffer): void => {
    try {
      unsealBlob(keys, e.type, e.id, sealed, e.compression, e.rawLength, where, scratch);
    } catch (err) {
      failed.set(e, describeError(err));
    }
  };

  // Blobs tile the pack from offset 0 in a sound pack. One the scan cannot take in order (it
  // overlaps another, or reaches past the end) is read on its own afterwards, so every byte is
  // hashed exactly once and in order whatever the index says.
  const inOrder = [...entries].sort((a, b) => a.offset - b.offset);
  const apart: PackEntry[] = [];
  const hash = createHash('sha256');
  /** The pack's size, or less once a read came back short. */
  let available = size;
  let pos = 0;
  let next = 0;
  while (pos < available) {
    const group: PackEntry[] = [];
    let end = pos;
    for (; next < inOrder.length; next++) {
      const e = inOrder[next]!;
      if (e.offset < end || e.offset + e.length > available) {
        apart.push(e);
        continue;
      }
      if (e.offset !== end) break;
      if (group.length > 0 && e.offset + e.length - pos > CHECK_WINDOW) break;
      group.push(e);
      end += e.length;
    }
    // No blob starts here: the bytes up to the next one (a gap, or the header and trailer).
    if (group.length === 0)
      end = Math.min(available, pos + CHECK_WINDOW, inOrder[next]?.offset ?? available);
    const window = read(pos, end - pos);
    hash.update(window);
    for (const e of group) open(e, window.subarray(e.offset - pos, e.offset - pos + e.length));
    if (window.length < end - pos) {
      available = pos + window.length; // ended early: what was read is checked, the rest reported
      break;
    }
    pos = end;
  }
  apart.push(...inOrder.slice(next));
  const named = hash.digest('hex') === packId;

  let header: PackEntry[] = [];
  let headerProblem: string | undefined;
  const tailBytes = tail(read, available);
  try {
    header = decodePackHeader(keys.masterKey, tailBytes, available, where);
  } catch (err) {
    headerProblem = describeError(err);
  }
  // Clipped to the pack: an index entry's length is not trusted to size a read.
  for (const e of apart)
    open(e, read(e.offset, Math.max(0, Math.min(e.length, available - e.offset))));

  // Reported in the index's order, the pack's own problems first.
  const problems: PackProblem[] = [];
  const damaged: BlobId[] = [];
  if (!named)
    problems.push({ object: where, message: 'content does not match its name (damaged)' });
  if (headerProblem !== undefined) problems.push({ object: where, message: headerProblem });
  const headerIds = new Set(header.map((h) => `${h.id}:${h.offset}`));
  for (const e of entries) {
    if (header.length > 0 && !headerIds.has(`${e.id}:${e.offset}`))
      problems.push({
        object: where,
        message: `index lists blob ${e.id} the pack header does not`,
      });
    const problem = failed.get(e);
    if (problem !== undefined) {
      damaged.push(e.id);
      problems.push({ object: `blob ${e.id}`, message: problem });
    }
  }
  return { problems, damaged, blobsChecked: entries.length };
}

/** The sealed header and trailer at the end of a pack of `size` bytes (all of it if shorter). */
function tail(read: PackReader, size: number): Buffer {
  if (size < PACK_TRAILER_BYTES) return Buffer.from(read(0, size));
  const headerLength = read(size - PACK_TRAILER_BYTES, PACK_TRAILER_BYTES).readUInt32LE(0);
  const length = Math.min(size, headerLength + PACK_TRAILER_BYTES);
  // A copy: the reader's next call may reuse the memory of this view.
  return Buffer.from(read(size - length, length));
}
