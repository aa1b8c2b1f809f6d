/**
 * The messages between the archiver (main thread) and its file workers. One FileJob names a
 * batch of files; the worker answers with a sequence of JobReports (the last has `done: true`).
 *
 * Paths travel as latin1 strings, a lossless byte-for-byte encoding: structured-cloning a small
 * Buffer would copy the whole 8 KiB pool slab it lives in. Sealed blobs cross threads in the
 * buffer the worker sealed them into, transferred without a copy (or, for the few bytes that end
 * a job of small files, copied out so the worker keeps its buffer), and that buffer comes back
 * on the `recycled` port once the main thread is done with it.
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
  /** Size of the buffer blobs are sealed into: a report is posted when the next blob does not fit (and at the end of a job). */
  readonly reportBytes: number;
  /**
   * Where the main thread sends back arenas (ArrayBuffers of reportBytes) once the packs holding
   * their blobs are stored (ArenaRecycler); the worker reads it synchronously when it needs one.
   */
  readonly recycled: MessagePort;
}

export interface FileTask {
  /** latin1 encoding of the raw path bytes. */
  readonly path: string;
  /** lstat size and mtime from the walk: a difference after reading means the file changed. */
  readonly size: number;
  readonly mtimeNs: bigint;
}

export interface FileJob {
  readonly job: number;
  readonly files: readonly FileTask[];
}

/** One blob the worker sealed; it is `data[buffer]` from `offset`, `length` bytes. */
export interface SealedBlobRef {
  readonly id: string;
  readonly buffer: number;
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
  readonly data: readonly ArrayBuffer[];
  readonly blobs: readonly SealedBlobRef[];
  /** Sealed bytes this report holds: the credit it consumed. */
  readonly credit: number;
  /** File bytes read since the previous report (progress). */
  readonly bytesRead: number;
  readonly files: readonly FileOutcome[];
  readonly done: boolean;
}

/** A bug or an unexpected failure in the worker: the backup fails. */
export interface WorkerFailure {
  readonly kind: 'failure';
  readonly message: string;
  readonly stack?: string;
}

export type WorkerMessage = JobReport | WorkerFailure;
