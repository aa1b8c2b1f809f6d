/**
 * The messages between the restorer (main thread) and its file workers.
 *
 * A batch of files belongs to one worker from start to end: the worker creates each file at its
 * first write, writes every blob delivered for it at its offsets, and once the file's last blob
 * has arrived sets a sparse file's size, applies metadata through the open descriptor and closes
 * it. A large file is split into parts, one per worker, each part a batch of its own (`part`).
 * The main thread plans, reads pack ranges and sends them — or, when the packs are files on this
 * machine, sends where to read them and the worker reads them itself; the worker opens,
 * decompresses and verifies each blob there (unsealBlob), so the plaintext never crosses back.
 *
 * Paths travel as latin1 strings (lossless for raw path bytes; a small Buffer would clone its
 * whole pool slab). Range bytes are transferred, never copied.
 */
import { constants } from 'node:fs';

/**
 * How a restored file is opened first: for writing only, created, and truncated so that a sparse
 * file's skipped blocks read as zero.
 */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;

export interface RestoreWorkerSetup {
  readonly masterKey: Uint8Array;
  readonly idKey: Uint8Array;
  /** Restore numeric owners (root only). */
  readonly owner: boolean;
}

/** Metadata a worker applies through the descriptor (sources/fs applyFileMetadata). */
export interface FileMeta {
  readonly type: 'file';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly xattrs?: readonly { readonly name: Uint8Array; readonly value: Uint8Array }[];
}

export interface BatchFile {
  /** latin1 encoding of the raw path bytes. */
  readonly path: string;
  readonly size: number;
  readonly sparse: boolean;
  /** Blob positions still to be written; 0 creates an empty file at once. */
  readonly parts: number;
  /** Omitted when the main thread applies metadata itself (after `restore --verify`). */
  readonly meta?: FileMeta;
  /**
   * One part of a large file whose parts other workers write at the same time: the main thread
   * created the file and finishes it (size, metadata) after its last part, so the worker opens
   * it without creating or truncating it and only closes it at the end.
   */
  readonly part?: true;
}

/** Starts a batch: the files it restores, in the order outcomes refer to them. */
export interface BatchStart {
  readonly kind: 'batch';
  readonly batch: number;
  readonly files: readonly BatchFile[];
}

/** Where one blob's plaintext goes: pairs of (file index in the batch, file offset). */
export type Targets = readonly number[];

export interface RangeBlob {
  readonly id: string;
  /** Offset and length of the sealed blob within the range's bytes. */
  readonly start: number;
  readonly length: number;
  readonly compression: number;
  readonly rawLength: number;
  readonly targets: Targets;
}

/** Bytes read from one pack, with the data blobs of the batch in them. */
export interface RangeDelivery {
  readonly kind: 'range';
  readonly batch: number;
  readonly pack: string;
  readonly bytes: ArrayBuffer;
  readonly blobs: readonly RangeBlob[];
}

/**
 * Blobs of the batch in a pack the main thread holds whole in shared memory (a PackCache slab),
 * with `start` relative to the pack's start. The memory stays the main thread's: the worker only
 * reads it, and its report for this message names `lease`, after which the main thread may
 * reuse the memory for another pack. Nothing is copied or transferred.
 */
export interface SharedDelivery {
  readonly kind: 'shared';
  readonly batch: number;
  readonly pack: string;
  readonly memory: SharedArrayBuffer;
  /** The pack's length (from the start of `memory`). */
  readonly length: number;
  readonly lease: number;
  readonly blobs: readonly RangeBlob[];
}

/** The bytes a SharedDelivery hands over (what the main thread counts against the window). */
export function sharedBytes(delivery: Pick<SharedDelivery, 'blobs'>): number {
  return delivery.blobs.reduce((n, b) => n + b.length, 0);
}

/**
 * A range the worker reads itself from the pack's file (ObjectStore `files`, or a copy the main
 * thread spooled: PackSpool): the same blobs as a RangeDelivery, of which only `segments` (start
 * relative to `offset`, length) are read, one after the other: the parts that hold the blobs. A
 * blob's `start` is where it lands among the segments read (pack-reader `packedStarts`). A range
 * it cannot read (a missing or short file) has every blob reported in `retry`.
 */
export interface RangeRead {
  readonly kind: 'read';
  readonly batch: number;
  readonly pack: string;
  readonly file: string;
  readonly offset: number;
  readonly segments: readonly (readonly [start: number, length: number])[];
  readonly blobs: readonly RangeBlob[];
  /** For a spooled copy: the report for this message names it, after which the file may go. */
  readonly lease?: number;
}

/** The bytes a RangeRead reads (what the main thread counts against the worker's window). */
export function readBytes(read: Pick<RangeRead, 'segments'>): number {
  return read.segments.reduce((n, [, length]) => n + length, 0);
}

/**
 * The outcome of a blob the worker could not verify (it reported it in `retry`) or the main
 * thread could not read: plaintext found elsewhere (verified by the main thread's loadBlob), or
 * the error that every target file is to report.
 */
export interface BlobResolution {
  readonly kind: 'resolution';
  readonly batch: number;
  readonly id: string;
  readonly targets: Targets;
  readonly data?: Uint8Array;
  readonly error?: SerializedError;
}

export interface Stop {
  readonly kind: 'stop';
}

export type ToWorker =
  BatchStart | RangeDelivery | SharedDelivery | RangeRead | BlobResolution | Stop;

export interface SerializedError {
  readonly message: string;
  /** A HoldfastError's code. */
  readonly code?: string;
  readonly hint?: string;
  /** A system error's errno code. */
  readonly errno?: string;
}

export interface FileOutcome {
  readonly file: number;
  readonly error?: SerializedError;
}

/** Posted after every message the worker handled. */
export interface WorkerReport {
  readonly kind: 'report';
  readonly batch: number;
  /** Range bytes consumed, delivered or read (the main thread's budget for this worker). */
  readonly consumed: number;
  readonly files: readonly FileOutcome[];
  /**
   * Blobs of a range that did not verify, or could not be read: the main thread tries their
   * other locations.
   */
  readonly retry: readonly { readonly id: string; readonly targets: Targets }[];
  /** Every file of the batch has its outcome. */
  readonly done: boolean;
  /** The SharedDelivery or RangeRead this report answers: its memory or file is no longer read. */
  readonly lease?: number;
}

export interface WorkerFailure {
  readonly kind: 'failure';
  readonly message: string;
  readonly stack?: string;
}

export type FromWorker = WorkerReport | WorkerFailure;
