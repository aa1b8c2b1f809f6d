/**
 * BatchWriter: the body of a restore file worker. It keeps the batches its worker owns (files,
 * their descriptors and how many blob positions each still waits for), verifies every blob of a
 * delivered range (unsealBlob) and writes it to each of its positions, and finishes a file when
 * its last position is written: a sparse file gets its size, metadata is applied through the
 * descriptor, the descriptor is closed. Almost everything is synchronous: inside a worker a
 * system call costs what it costs, without a promise or a thread-pool hop around it. Blobs are
 * opened and decompressed into one reused scratch buffer and written from it at once. The
 * exception is a large blob in a buffer of its own (≥ ASYNC_WRITE_MIN: one the main thread
 * resolved, or larger than the scratch buffer may grow): its write goes to the thread pool, and
 * its file is finished, and reported through `post`, when its last write completes. A large
 * compressed blob is verified whole and then written a piece at a time (unsealBlobEach), so the
 * scratch buffer holds its stored bytes and a piece, not its plaintext.
 *
 * Memory: the range being handled (≤ one pack read; ranges the worker reads itself go into one
 * reused buffer, see PackFiles; a pack in shared memory is read in place, never kept), the
 * scratch buffer (≤ SCRATCH_MAX), and at most ASYNC_WRITE_BYTES of large blobs being written by
 * the thread pool.
 */
import { closeSync, constants, ftruncateSync, openSync, write } from 'node:fs';
import { HoldfastError, type BlobId } from '../../../core/index.js';
import { applyFileMetadata, type FsMetadata } from '../../../sources/index.js';
import { unsealBlobEach, unsealScratchBytes, type BlobKeys } from '../../format/index.js';
import { PackFiles } from './pack-files.js';
import { writeBlob } from './positional-write.js';
import {
  CREATE_FLAGS,
  type BatchStart,
  type BlobResolution,
  type FileMeta,
  type FileOutcome,
  type RangeDelivery,
  type RangeRead,
  type SerializedError,
  type SharedDelivery,
  type Targets,
  type WorkerReport,
  readBytes,
  sharedBytes,
} from './restore-job.js';
import { serializeError } from './serialized-error.js';

// A part of a file (BatchFile.part): the main thread created and truncated it already, and the
// other parts' writes may have landed.
const PART_FLAGS = constants.O_WRONLY;

/** A file's descriptor, opened at its first write or, without one, when it is finished. */
function openFile(file: OpenFile): number {
  return openSync(file.path, file.part ? PART_FLAGS : CREATE_FLAGS, 0o600);
}

interface OpenFile {
  readonly path: Buffer;
  readonly size: number;
  readonly sparse: boolean;
  readonly meta: FsMetadata | undefined;
  /** One part of a file (BatchFile.part): opened with PART_FLAGS, not sized here. */
  readonly part: boolean;
  remaining: number;
  fd?: number;
  error?: SerializedError;
  /** A write failed: nothing more is written (a missing blob still lets the others land). */
  writeFailed?: boolean;
  /** Writes handed to the thread pool and not yet completed. */
  pending: number;
}

interface Batch {
  readonly id: number;
  readonly files: OpenFile[];
  /** Files without an outcome yet. */
  left: number;
}

/**
 * Buffer blobs are opened and decompressed into: starts at twice most blobs' size, grows up to
 * room for the largest chunk size.
 */
const SCRATCH_BYTES = 2 * 1024 * 1024;
const SCRATCH_MAX = 32 * 1024 * 1024;
/** Blobs in buffers of their own at least this large are written by the thread pool. */
const ASYNC_WRITE_MIN = 256 * 1024;
/**
 * Plaintext held by writes in the thread pool; beyond it, writes are synchronous again. A few
 * blobs in flight keep the disk busy; more only held memory (1 GiB restore: 8 MiB measured as
 * fast as 32 MiB, with ≈ 40 MiB less peak RSS).
 */
const ASYNC_WRITE_BYTES = 8 * 1024 * 1024;

/** Reports what finished after the message that started it (an asynchronous write completed). */
export type PostReport = (report: WorkerReport) => void;

export class BatchWriter {
  private readonly batches = new Map<number, Batch>();
  /**
   * Compressed blobs are decompressed here, written, and forgotten before the next one: one
   * buffer instead of one allocation per blob, which would leave the worker's garbage collector
   * tens of MiB of dead plaintext to find (and the process that much more memory meanwhile).
   */
  private scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** Ranges this worker reads itself (RangeRead), into one reused buffer. */
  private readonly packs = new PackFiles();
  private asyncBytes = 0;
  /** After closeAll: files whose descriptor waits for its last write, and whom to tell. */
  private draining = 0;
  private stopped: (() => void) | undefined;

  constructor(
    private readonly keys: BlobKeys,
    private readonly owner: boolean,
    private readonly post: PostReport,
  ) {}

  start(msg: BatchStart): WorkerReport {
    const files = msg.files.map((f): OpenFile => ({
      path: Buffer.from(f.path, 'latin1'),
      size: f.size,
      sparse: f.sparse,
      meta: f.meta && metadataOf(f.meta),
      part: f.part === true,
      remaining: f.parts,
      pending: 0,
    }));
    const batch: Batch = { id: msg.batch, files, left: files.length };
    this.batches.set(msg.batch, batch);
    const outcomes: FileOutcome[] = [];
    files.forEach((_, i) => this.finishIfDone(batch, i, outcomes));
    return this.report(msg.batch, batch, 0, outcomes, []);
  }

  /** Verifies and writes the blobs of one range; those that do not verify go back for a retry. */
  range(msg: RangeDelivery): WorkerReport {
    return this.verifyAndPlace(msg, Buffer.from(msg.bytes), msg.bytes.byteLength);
  }

  /** As `range`, from a pack in shared memory; the report returns the lease. */
  shared(msg: SharedDelivery): WorkerReport {
    const bytes = Buffer.from(msg.memory, 0, msg.length);
    return { ...this.verifyAndPlace(msg, bytes, sharedBytes(msg)), lease: msg.lease };
  }

  /**
   * Reads a range from the pack's file, then as `range`; an unreadable range is all retries. The
   * report returns the lease of a spooled copy.
   */
  read(msg: RangeRead): WorkerReport {
    const consumed = readBytes(msg);
    const lease = msg.lease !== undefined ? { lease: msg.lease } : {};
    let bytes: Buffer;
    try {
      bytes = this.packs.read(msg.file, msg.offset, msg.segments);
    } catch {
      // Why it failed is for the main thread's loadBlob to find out and report, pack by pack.
      const batch = this.batch(msg.batch);
      const retry = msg.blobs.map((b) => ({ id: b.id, targets: b.targets }));
      return { ...this.report(msg.batch, batch, consumed, [], retry), ...lease };
    } finally {
      // A spooled copy is not kept open: its file goes once no range of it is left, and an open
      // descriptor would keep its blocks (a reopen per range costs microseconds).
      if (msg.lease !== undefined) this.packs.close(msg.file);
    }
    return { ...this.verifyAndPlace(msg, bytes, consumed), ...lease };
  }

  private verifyAndPlace(
    msg: RangeDelivery | SharedDelivery | RangeRead,
    bytes: Buffer,
    consumed: number,
  ): WorkerReport {
    const batch = this.batch(msg.batch);
    const outcomes: FileOutcome[] = [];
    const retry: { id: string; targets: Targets }[] = [];
    for (const b of msg.blobs) {
      let inPieces = false;
      try {
        const sealed = bytes.subarray(b.start, b.start + b.length);
        unsealBlobEach(
          this.keys,
          'data',
          b.id as BlobId,
          sealed,
          b.compression,
          b.rawLength,
          `pack ${msg.pack}`,
          this.scratchFor(b),
          (data, at) => {
            if (at === 0 && data.length === b.rawLength) {
              this.place(batch, data, b.targets, outcomes);
            } else {
              inPieces = true;
              this.writePiece(batch, data, at, b.targets);
            }
          },
        );
      } catch (err) {
        if (!(err instanceof HoldfastError && err.code === 'INTEGRITY')) throw err;
        // Before any piece: the blob was verified first. A piece written by then would be of
        // the verified bytes, and the blob's other copy is written over it.
        retry.push({ id: b.id, targets: b.targets });
        continue;
      }
      if (inPieces) this.placed(batch, b.targets, outcomes);
    }
    return this.report(msg.batch, batch, consumed, outcomes, retry);
  }

  /**
   * The scratch buffer for one blob, grown when it needs more (unsealScratchBytes: the stored
   * length and a piece for a large compressed blob, raw plus stored length for a smaller one),
   * or undefined for a larger recorded length than SCRATCH_MAX (a custom chunker, a forged
   * index), which gets a buffer of its own. Writing a 1 MiB blob from the
   * scratch buffer synchronously beat a fresh buffer written by the thread pool (1 GiB
   * incompressible restore into tmpfs: 2.1–2.2 s against 2.3–2.5 s, 18 MiB less peak RSS): the
   * fresh buffers' page faults cost more than the overlap saved.
   */
  private scratchFor(b: {
    compression: number;
    rawLength: number;
    length: number;
  }): Buffer | undefined {
    const need = unsealScratchBytes(b.compression, b.rawLength, b.length);
    if (!(need <= SCRATCH_MAX)) return undefined;
    if (need > this.scratch.length)
      this.scratch = Buffer.allocUnsafeSlow(
        Math.min(SCRATCH_MAX, Math.max(need, 2 * this.scratch.length)),
      );
    return this.scratch;
  }

  resolve(msg: BlobResolution): WorkerReport {
    const batch = this.batch(msg.batch);
    const outcomes: FileOutcome[] = [];
    if (msg.data !== undefined) this.place(batch, toBuffer(msg.data), msg.targets, outcomes);
    else
      this.fail(
        batch,
        msg.error ?? { message: `blob ${msg.id} unavailable` },
        msg.targets,
        outcomes,
      );
    return this.report(msg.batch, batch, 0, outcomes, []);
  }

  /**
   * Closes every descriptor still open (the restore stops early): at once, or for a file with
   * writes still in the thread pool, when the last of them completes. Calls `stopped` when no
   * descriptor is left open.
   */
  closeAll(stopped: () => void): void {
    this.stopped = stopped;
    this.packs.closeAll();
    for (const batch of this.batches.values())
      for (const f of batch.files) {
        if (f.fd === undefined) continue;
        if (f.pending > 0) {
          this.draining++;
          continue;
        }
        closeQuietly(f.fd);
        delete f.fd;
      }
    this.batches.clear();
    if (this.draining === 0) stopped();
  }

  private batch(id: number): Batch {
    const batch = this.batches.get(id);
    if (batch === undefined) throw new Error(`restore worker: unknown batch ${id}`);
    return batch;
  }

  private place(batch: Batch, data: Buffer, targets: Targets, outcomes: FileOutcome[]): void {
    // Only a buffer of its own may outlive this call (the scratch buffer is reused at once).
    const mayDefer = data.length >= ASYNC_WRITE_MIN && data.buffer !== this.scratch.buffer;
    for (let t = 0; t < targets.length; t += 2) {
      const index = targets[t]!;
      const file = batch.files[index]!;
      if (file.writeFailed !== true) {
        try {
          file.fd ??= openFile(file);
          if (mayDefer && !file.sparse && this.asyncBytes + data.length <= ASYNC_WRITE_BYTES)
            this.writeLater(batch, index, data, targets[t + 1]!);
          else writeBlob(file.fd, data, targets[t + 1]!, file.sparse);
        } catch (err) {
          file.error ??= serializeError(err);
          file.writeFailed = true;
        }
      }
      file.remaining--;
      this.finishIfDone(batch, index, outcomes);
    }
  }

  /** Writes a piece of a blob, at `at` within it, to each of the blob's positions. */
  private writePiece(batch: Batch, piece: Buffer, at: number, targets: Targets): void {
    for (let t = 0; t < targets.length; t += 2) {
      const file = batch.files[targets[t]!]!;
      if (file.writeFailed === true) continue;
      try {
        file.fd ??= openFile(file);
        writeBlob(file.fd, piece, targets[t + 1]! + at, file.sparse);
      } catch (err) {
        file.error ??= serializeError(err);
        file.writeFailed = true;
      }
    }
  }

  /** Every piece of a blob is written (writePiece): its positions are done. */
  private placed(batch: Batch, targets: Targets, outcomes: FileOutcome[]): void {
    for (let t = 0; t < targets.length; t += 2) {
      batch.files[targets[t]!]!.remaining--;
      this.finishIfDone(batch, targets[t]!, outcomes);
    }
  }

  /** Writes `data` at `offset` through the thread pool, continuing after short writes. */
  private writeLater(batch: Batch, index: number, data: Buffer, offset: number): void {
    const file = batch.files[index]!;
    const fd = file.fd!;
    file.pending++;
    this.asyncBytes += data.length;
    const done = (err: NodeJS.ErrnoException | null): void => {
      this.asyncBytes -= data.length;
      file.pending--;
      if (err) {
        file.error ??= serializeError(err);
        file.writeFailed = true;
      }
      // A batch already given up (the restore stopped) has nothing more to report, only its
      // descriptor to close once this was its last write.
      if (this.batches.get(batch.id) !== batch) {
        if (file.pending === 0 && file.fd !== undefined) {
          closeQuietly(file.fd);
          delete file.fd;
          if (--this.draining === 0) this.stopped?.();
        }
        return;
      }
      const outcomes: FileOutcome[] = [];
      this.finishIfDone(batch, index, outcomes);
      if (outcomes.length > 0) this.post(this.report(batch.id, batch, 0, outcomes, []));
    };
    const step = (written: number): void => {
      write(fd, data, written, data.length - written, offset + written, (err, n) => {
        if (err || written + n >= data.length) done(err);
        else step(written + n);
      });
    };
    step(0);
  }

  private finishIfDone(batch: Batch, index: number, outcomes: FileOutcome[]): void {
    const file = batch.files[index]!;
    if (file.remaining === 0 && file.pending === 0) this.finish(batch, index, outcomes);
  }

  private fail(
    batch: Batch,
    error: SerializedError,
    targets: Targets,
    outcomes: FileOutcome[],
  ): void {
    for (let t = 0; t < targets.length; t += 2) {
      const index = targets[t]!;
      const file = batch.files[index]!;
      // Name the file in the repository's own errors (the cause names only the blob).
      file.error ??=
        error.code !== undefined
          ? { ...error, message: `${file.path.toString()}: ${error.message}` }
          : error;
      file.remaining--;
      this.finishIfDone(batch, index, outcomes);
    }
  }

  /**
   * The file's last position is written (or failed): size, metadata, close. A file whose every
   * blob failed is still created, as a partial restore leaves it.
   */
  private finish(batch: Batch, index: number, outcomes: FileOutcome[]): void {
    const file = batch.files[index]!;
    let error = file.error;
    try {
      file.fd ??= openFile(file);
      if (error === undefined) {
        if (file.sparse && !file.part) ftruncateSync(file.fd, file.size);
        if (file.meta) applyFileMetadata(file.fd, file.path, file.meta, { owner: this.owner });
      }
    } catch (err) {
      error ??= serializeError(err);
    }
    if (file.fd !== undefined) {
      try {
        closeSync(file.fd);
      } catch (err) {
        error ??= serializeError(err);
      }
      delete file.fd;
    }
    outcomes.push(error === undefined ? { file: index } : { file: index, error });
    batch.left--;
  }

  private report(
    id: number,
    batch: Batch,
    consumed: number,
    files: FileOutcome[],
    retry: { id: string; targets: Targets }[],
  ): WorkerReport {
    const done = batch.left === 0;
    if (done) this.batches.delete(id);
    return { kind: 'report', batch: id, consumed, files, retry, done };
  }
}

function metadataOf(m: FileMeta): FsMetadata {
  const { xattrs, ...rest } = m;
  if (xattrs === undefined) return rest;
  return {
    ...rest,
    xattrs: xattrs.map((x) => ({ name: toBuffer(x.name), value: toBuffer(x.value) })),
  };
}

/** A Buffer over a structured-cloned Uint8Array, without copying. */
function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Stopping early already; nothing to report about this descriptor.
  }
}
