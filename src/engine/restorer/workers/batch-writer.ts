/**
 * BatchWriter: the body of a restore file worker. It keeps the batches its worker owns (files,
 * their descriptors and how many blob positions each still waits for), verifies every blob of a
 * delivered range (unsealBlob) and writes it to each of its positions, and finishes a file when
 * its last position is written: a sparse file gets its size, metadata is applied through the
 * descriptor, the descriptor is closed. Everything is synchronous: inside a worker a system call
 * costs what it costs, without a promise or a thread-pool hop around it.
 *
 * Memory: the range being handled (≤ one pack read) and one blob's plaintext at a time.
 */
import { closeSync, constants, ftruncateSync, openSync } from 'node:fs';
import { HoldfastError, type BlobId } from '../../../core/index.js';
import { applyFileMetadata, type FsMetadata } from '../../../sources/index.js';
import { unsealBlob, type BlobKeys } from '../../format/index.js';
import { writeBlob } from './positional-write.js';
import type {
  BatchStart,
  BlobResolution,
  FileMeta,
  FileOutcome,
  RangeDelivery,
  SerializedError,
  Targets,
  WorkerReport,
} from './restore-job.js';
import { serializeError } from './serialized-error.js';

// Created for writing only; truncated so that a sparse file's skipped blocks read as zero.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;

interface OpenFile {
  readonly path: Buffer;
  readonly size: number;
  readonly sparse: boolean;
  readonly meta: FsMetadata | undefined;
  remaining: number;
  fd?: number;
  error?: SerializedError;
  /** A write failed: nothing more is written (a missing blob still lets the others land). */
  writeFailed?: boolean;
}

interface Batch {
  readonly files: OpenFile[];
  /** Files without an outcome yet. */
  left: number;
}

export class BatchWriter {
  private readonly batches = new Map<number, Batch>();

  constructor(
    private readonly keys: BlobKeys,
    private readonly owner: boolean,
  ) {}

  start(msg: BatchStart): WorkerReport {
    const files = msg.files.map((f): OpenFile => ({
      path: Buffer.from(f.path, 'latin1'),
      size: f.size,
      sparse: f.sparse,
      meta: f.meta && metadataOf(f.meta),
      remaining: f.parts,
    }));
    const batch: Batch = { files, left: files.length };
    this.batches.set(msg.batch, batch);
    const outcomes: FileOutcome[] = [];
    files.forEach((f, i) => {
      if (f.remaining === 0) this.finish(batch, i, outcomes);
    });
    return this.report(msg.batch, batch, 0, outcomes, []);
  }

  /** Verifies and writes the blobs of one range; those that do not verify go back for a retry. */
  range(msg: RangeDelivery): WorkerReport {
    const batch = this.batch(msg.batch);
    const bytes = Buffer.from(msg.bytes);
    const outcomes: FileOutcome[] = [];
    const retry: { id: string; targets: Targets }[] = [];
    for (const b of msg.blobs) {
      let data: Buffer;
      try {
        const sealed = bytes.subarray(b.start, b.start + b.length);
        data = unsealBlob(
          this.keys,
          'data',
          b.id as BlobId,
          sealed,
          b.compression,
          b.rawLength,
          `pack ${msg.pack}`,
        );
      } catch (err) {
        if (!(err instanceof HoldfastError && err.code === 'INTEGRITY')) throw err;
        retry.push({ id: b.id, targets: b.targets });
        continue;
      }
      this.place(batch, data, b.targets, outcomes);
    }
    return this.report(msg.batch, batch, msg.bytes.byteLength, outcomes, retry);
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

  /** Closes every descriptor still open (the restore stops early). */
  closeAll(): void {
    for (const batch of this.batches.values())
      for (const f of batch.files) if (f.fd !== undefined) closeQuietly(f.fd);
    this.batches.clear();
  }

  private batch(id: number): Batch {
    const batch = this.batches.get(id);
    if (batch === undefined) throw new Error(`restore worker: unknown batch ${id}`);
    return batch;
  }

  private place(batch: Batch, data: Buffer, targets: Targets, outcomes: FileOutcome[]): void {
    for (let t = 0; t < targets.length; t += 2) {
      const index = targets[t]!;
      const file = batch.files[index]!;
      if (file.writeFailed !== true) {
        try {
          file.fd ??= openSync(file.path, CREATE_FLAGS, 0o600);
          writeBlob(file.fd, data, targets[t + 1]!, file.sparse);
        } catch (err) {
          file.error ??= serializeError(err);
          file.writeFailed = true;
        }
      }
      if (--file.remaining === 0) this.finish(batch, index, outcomes);
    }
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
      if (--file.remaining === 0) this.finish(batch, index, outcomes);
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
      file.fd ??= openSync(file.path, CREATE_FLAGS, 0o600);
      if (error === undefined) {
        if (file.sparse) ftruncateSync(file.fd, file.size);
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
