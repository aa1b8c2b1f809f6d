/**
 * Checking one whole pack (`check --read-data`): its SHA-256 against its name, its header against
 * the index, and every blob the index places in it opened, decompressed and re-hashed against its
 * id. Runs on the main thread, the work itself on a native thread (a PackChecker of the
 * holdfast_crypto addon, native/pack_check.c, has one of its own), so several packs are checked
 * at once on every core without worker threads.
 *
 * The pack is read front to back once, a window at a time (PackReader): each window is hashed
 * and the blobs that lie wholly in it are verified by the same task, so a pack in flight needs
 * memory for a window and its largest blob, not for the whole pack. A blob the native checker does
 * not pass is verified again by verifyBlob, whose error is what the check reports: the rules and
 * messages for a damaged blob are unseal-blob.ts's, whichever code found it.
 */
import { describeError, type BlobId, type PackId } from '../../core/index.js';
import { blobCrypto, type PackCheckerHandle } from '../crypto/index.js';
import {
  INDEX_ENTRY_BYTES,
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
export type PackReader = (offset: number, length: number) => Promise<Buffer>;

/** Bytes hashed per read, unless one blob is larger (it is read whole). */
export const CHECK_WINDOW = 1024 * 1024;

/** A native pack checker and the keys it was made with (one pack at a time). */
export class PackChecker {
  readonly handle: PackCheckerHandle;

  constructor(readonly keys: BlobKeys) {
    this.handle = blobCrypto().packChecker(keys.masterKey, keys.idKey);
  }

  /** Stops its thread and frees its buffers now, not when it is garbage-collected. */
  close(): void {
    blobCrypto().packCheckClose(this.handle);
  }
}

/** checkPackFrom over a pack held whole in memory. */
export function checkPack(
  checker: PackChecker,
  packId: PackId,
  bytes: Buffer,
  records: IndexRecords,
): Promise<PackCheckOutcome> {
  const read: PackReader = (offset, length) =>
    Promise.resolve(bytes.subarray(offset, offset + length));
  return checkPackFrom(checker, packId, bytes.length, read, records);
}

/**
 * Checks pack `packId` of `size` bytes, read through `read`, against `records` (what the index
 * says it holds). A damaged blob is reported and the others are still checked.
 *
 * The entries stay encoded (IndexRecords, and the header's plaintext: PackHeader) for the whole
 * pack: a pack of small files lists thousands of blobs, and an object and a hex id each, kept
 * until the pack is checked, outlived the young generation and piled up in the old one (≈ 15–25
 * MiB per `check`, measured with a collection forced after every pack). Only a blob's id
 * string is made where it failed, and for the few blobs checked apart.
 */
export async function checkPackFrom(
  checker: PackChecker,
  packId: PackId,
  size: number,
  read: PackReader,
  records: IndexRecords,
): Promise<PackCheckOutcome> {
  const { keys } = checker;
  const native = blobCrypto();
  const where = `pack ${packId}`;
  const failed = new Map<number, string>();
  /** Blob `i` in JavaScript (unseal-blob.ts): the reference rules, and the reason it fails. */
  const verify = (i: number, sealed: Buffer): void => {
    try {
      verifyBlob(
        keys,
        records.type(i),
        records.id(i),
        sealed,
        records.compression(i),
        records.rawLength(i),
        where,
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
  /** The pack's size, or less once a read came back short. */
  let available = size;
  let pos = 0;
  let next = 0;
  /** The blobs read with the current window (entry numbers: no object per blob). */
  const group: number[] = [];
  let named: boolean;
  try {
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
      const window = await read(pos, end - pos);
      // The group's entries as the index encodes them, for the native checker; a blob a short
      // window cut is outside the window there, and fails.
      const entries = Buffer.allocUnsafe(group.length * INDEX_ENTRY_BYTES);
      group.forEach((i, k) => records.copyEntryTo(i, entries, k * INDEX_ENTRY_BYTES));
      const verdicts = await native.packCheckWindow(checker.handle, window, pos, entries);
      group.forEach((i, k) => {
        if (verdicts[k] === 1) return;
        const at = records.offset(i) - pos;
        verify(i, window.subarray(at, at + records.length(i)));
      });
      if (window.length < end - pos) {
        available = pos + window.length; // ended early: what was read is checked, the rest reported
        break;
      }
      pos = end;
    }
  } finally {
    // Also where a read threw: the checker starts its next pack anew.
    named = native.packCheckDigest(checker.handle) === packId;
  }
  for (let k = next; k < inOrder.length; k++) apart.push(inOrder[k]!);

  let header: PackHeader | undefined;
  let headerProblem: string | undefined;
  const tailBytes = await tail(read, available);
  try {
    header = openPackHeader(keys.masterKey, tailBytes, available, where);
  } catch (err) {
    headerProblem = describeError(err);
  }
  // Clipped to the pack: an index entry's length is not trusted to size a read.
  for (const i of apart) {
    const offset = records.offset(i);
    verify(i, await read(offset, Math.max(0, Math.min(records.length(i), available - offset))));
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
async function tail(read: PackReader, size: number): Promise<Buffer> {
  if (size < PACK_TRAILER_BYTES) return Buffer.from(await read(0, size));
  const headerLength = (await read(size - PACK_TRAILER_BYTES, PACK_TRAILER_BYTES)).readUInt32LE(0);
  const length = Math.min(size, headerLength + PACK_TRAILER_BYTES);
  // A copy: the reader's next call may reuse the memory of this view.
  return Buffer.from(await read(size - length, length));
}
