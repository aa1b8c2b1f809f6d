/**
 * The messages between the archiver (main thread) and its file workers. One FileJob names a
 * batch of files; the worker answers with a sequence of JobReports (the last has `done: true`).
 *
 * Paths travel as latin1 strings, a lossless byte-for-byte encoding: structured-cloning a small
 * Buffer would copy the whole 8 KiB pool slab it lives in. Sealed blobs stay where the worker
 * sealed them, in shared memory (slabs, see SlabPool): a report names each blob's slab, offset
 * and length, and the main thread reads it in place.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CompressionMode } from '../../compression/index.js';
import type { ChunkerParams } from '../../chunker/index.js';

/** What a worker needs to turn plaintext into sealed blobs exactly as BlobWriter.save does. */
export interface FileWorkerSetup {
  readonly masterKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly chunkerKey: Uint8Array;
  readonly chunkerParams: ChunkerParams;
  readonly compression: CompressionMode;
  /** Int32Array[2] over it: [0] byte credit (see CreditGate), [1] 1 once the pool closes. */
  readonly credit: SharedArrayBuffer;
  readonly creditWindow: number;
  /** Size of a slab: a report is posted when the next blob does not fit (and at the end of a job). */
  readonly slabBytes: number;
  /**
   * Where the main thread sends the ids of retired slabs it holds no blob of any more (their
   * packs are stored, see SlabTable); the worker reads it synchronously when it needs a slab.
   */
  readonly freed: MessagePort;
}

export interface FileTask {
  /** latin1 encoding of the raw path bytes. */
  readonly path: string;
  /** lstat size and mtime from the walk: a difference after reading means the file changed. */
  readonly size: number;
  readonly mtimeNs: bigint;
  /**
   * Ids of the file's content in the parent snapshot that the repository holds (a file of more
   * than one blob that changed): a chunk with one of these ids is not compressed and sealed
   * again, only named — as BlobWriter would drop it anyway. A large file changed in place (a
   * database, a disk image) is then read and hashed, not recompressed.
   */
  readonly stored?: readonly string[];
}

/**
 * Chunks of a stream that the main thread cut and named (stream-saver.ts), for a worker to
 * compress and seal; `data` is a view of shared memory (structured clone shares it, it does not
 * copy it). Reported like a file whose content they are.
 */
export interface SealTask {
  readonly chunks: readonly { readonly id: string; readonly data: Uint8Array }[];
}

export interface FileJob {
  readonly job: number;
  readonly files: readonly (FileTask | SealTask)[];
}

/** One blob the worker sealed: `length` bytes from `offset` in slab `slab`. */
export interface SealedBlobRef {
  readonly id: string;
  readonly slab: number;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
  readonly compressed: boolean;
}

export interface FileOutcome {
  /** Index of the file in its job. */
  readonly file: number;
  /** Blob ids of the content in order; empty when `error` is set. */
  readonly content: readonly string[];
  readonly bytes: number;
  readonly changedWhileReading: boolean;
  /** A system error reading the file (open, read, fstat): errno code and message. */
  readonly error?: { readonly code: string | undefined; readonly message: string };
}

/**
 * Blobs are listed before the outcomes of the files they belong to, in file order, so the main
 * thread saves a file's blobs before it learns the file is complete.
 */
export interface JobReport {
  readonly kind: 'report';
  readonly job: number;
  /** Slabs the worker started sealing into since its last report (new ones, or freed ones again). */
  readonly slabs: readonly NewSlab[];
  readonly blobs: readonly SealedBlobRef[];
  /** Slabs the worker moved on from since its last report (after sealing these blobs). */
  readonly retired: readonly number[];
  /** Sealed bytes this report holds: the credit it consumed. */
  readonly credit: number;
  /** File bytes read since the previous report (progress). */
  readonly bytesRead: number;
  readonly files: readonly FileOutcome[];
  readonly done: boolean;
}

/** A slab's id and its memory (structured clone shares a SharedArrayBuffer, it does not copy it). */
export interface NewSlab {
  readonly id: number;
  readonly memory: SharedArrayBuffer;
}

/** A bug or an unexpected failure in the worker: the backup fails. */
export interface WorkerFailure {
  readonly kind: 'failure';
  readonly message: string;
  readonly stack?: string;
}

export type WorkerMessage = JobReport | WorkerFailure;
