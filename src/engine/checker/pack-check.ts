/**
 * Checking one whole pack (`check --read-data`): its SHA-256 against its name, its header against
 * the index, and every blob the index places in it opened, decompressed and re-hashed against its
 * id (verifyBlob: the checks every reader makes). Pure computation over the pack's bytes, so it
 * runs on a pack check worker (workers/) without anything of the repository but its keys.
 *
 * The pack is read front to back once, a window at a time (PackReader): each window is hashed
 * and the blobs that lie wholly in it are opened, so a worker needs memory for a window and its
 * largest blob, not for the whole pack.
 */
import { createHash } from 'node:crypto';
import { describeError, type BlobId, type PackId } from '../../core/index.js';
import {
  openPackHeader,
  PACK_TRAILER_BYTES,
  verifyBlob,
  type BlobKeys,
  type IndexRecords,
  type PackHeader,
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
  records: IndexRecords,
  scratch?: Buffer,
): PackCheckOutcome {
  const read: PackReader = (offset, length) => bytes.subarray(offset, offset + length);
  return checkPackFrom(keys, packId, bytes.length, read, records, scratch);
}

/**
 * Checks pack `packId` of `size` bytes, read through `read`, against `records` (what the index
 * says it holds). A damaged blob is reported and the others are still checked. `scratch`
 * receives decompressed blobs that fit (see verifyBlob).
 *
 * The entries stay encoded (IndexRecords, and the header's plaintext: PackHeader) for the whole
 * pack: a pack of small files lists thousands of blobs, and an object and a hex id each, kept
 * until the pack is checked, outlived the young generation and piled up in the old one (≈ 15–25
 * MiB per `check`, measured with a collection forced after every pack). Only a blob's id
 * string is made while it is opened, and dies there.
 */
export function checkPackFrom(
  keys: BlobKeys,
  packId: PackId,
  size: number,
  read: PackReader,
  records: IndexRecords,
  scratch?: Buffer,
): PackCheckOutcome {
  const where = `pack ${packId}`;
  const failed = new Map<number, string>();
  const open = (i: number, sealed: Buffer): void => {
    const type = records.type(i);
    const compression = records.compression(i);
    try {
      verifyBlob(
        keys,
        type,
        records.id(i),
        sealed,
        compression,
        records.rawLength(i),
        where,
        scratch,
      );
    } catch (err) {
      failed.set(i, describeError(err));
    }
  };

  // Blobs tile the pack from offset 0 in a sound pack. One the scan cannot take in order (it
  // overlaps another, or reaches past the end) is read on its own afterwards, so every byte is
  // hashed exactly once and in order whatever the index says.
  const inOrder = new Uint32Array(records.count);
  for (let i = 0; i < inOrder.length; i++) inOrder[i] = i;
  inOrder.sort((a, b) => records.offset(a) - records.offset(b));
  const apart: number[] = [];
  const hash = createHash('sha256');
  /** The pack's size, or less once a read came back short. */
  let available = size;
  let pos = 0;
  let next = 0;
  /** The blobs read with the current window (entry numbers: no object per blob). */
  const group: number[] = [];
  while (pos < available) {
    group.length = 0;
    let end = pos;
    for (; next < inOrder.length; next++) {
      const i = inOrder[next]!;
      const offset = records.offset(i);
      const length = records.length(i);
      if (offset < end || offset + length > available) {
        apart.push(i);
        continue;
      }
      if (offset !== end) break;
      if (group.length > 0 && offset + length - pos > CHECK_WINDOW) break;
      group.push(i);
      end += length;
    }
    // No blob starts here: the bytes up to the next one (a gap, or the header and trailer).
    if (group.length === 0) {
      const following = next < inOrder.length ? records.offset(inOrder[next]!) : available;
      end = Math.min(available, pos + CHECK_WINDOW, following);
    }
    const window = read(pos, end - pos);
    hash.update(window);
    for (const i of group) {
      const at = records.offset(i) - pos;
      open(i, window.subarray(at, at + records.length(i)));
    }
    if (window.length < end - pos) {
      available = pos + window.length; // ended early: what was read is checked, the rest reported
      break;
    }
    pos = end;
  }
  for (let k = next; k < inOrder.length; k++) apart.push(inOrder[k]!);
  const named = hash.digest('hex') === packId;

  let header: PackHeader | undefined;
  let headerProblem: string | undefined;
  const tailBytes = tail(read, available);
  try {
    header = openPackHeader(keys.masterKey, tailBytes, available, where);
  } catch (err) {
    headerProblem = describeError(err);
  }
  // Clipped to the pack: an index entry's length is not trusted to size a read.
  for (const i of apart) {
    const offset = records.offset(i);
    open(i, read(offset, Math.max(0, Math.min(records.length(i), available - offset))));
  }

  // Reported in the index's order, the pack's own problems first.
  const problems: PackProblem[] = [];
  const damaged: BlobId[] = [];
  if (!named)
    problems.push({ object: where, message: 'content does not match its name (damaged)' });
  if (headerProblem !== undefined) problems.push({ object: where, message: headerProblem });
  for (let i = 0; i < records.count; i++) {
    if (
      header !== undefined &&
      header.count > 0 &&
      !header.lists(records.bytes, records.idAt(i), records.offset(i))
    )
      problems.push({
        object: where,
        message: `index lists blob ${records.id(i)} the pack header does not`,
      });
    const problem = failed.get(i);
    if (problem !== undefined) {
      damaged.push(records.id(i));
      problems.push({ object: `blob ${records.id(i)}`, message: problem });
    }
  }
  return { problems, damaged, blobsChecked: records.count };
}

/** The sealed header and trailer at the end of a pack of `size` bytes (all of it if shorter). */
function tail(read: PackReader, size: number): Buffer {
  if (size < PACK_TRAILER_BYTES) return Buffer.from(read(0, size));
  const headerLength = read(size - PACK_TRAILER_BYTES, PACK_TRAILER_BYTES).readUInt32LE(0);
  const length = Math.min(size, headerLength + PACK_TRAILER_BYTES);
  // A copy: the reader's next call may reuse the memory of this view.
  return Buffer.from(read(size - length, length));
}
