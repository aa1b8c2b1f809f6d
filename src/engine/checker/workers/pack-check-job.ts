/**
 * The messages between `check --read-data` (main thread) and its pack check workers. A task is
 * one whole pack: its bytes (transferred, never copied) when the main thread fetched it, or the
 * path of its file when the store's objects are local files, which the worker then reads itself
 * into a buffer it reuses. The answer is the pack's outcome (pack-check.ts), or why the pack
 * could not be read.
 */
import type { PackCheckOutcome } from '../pack-check.js';

export interface PackCheckSetup {
  readonly masterKey: Uint8Array;
  readonly idKey: Uint8Array;
}

export interface PackTask {
  readonly kind: 'pack';
  readonly task: number;
  readonly pack: string;
  /** What the index lists in the pack, encoded as IndexRecords (46 bytes per blob). */
  readonly entries: Uint8Array;
  /** The pack's file (ObjectStore `files`), read by the worker... */
  readonly file?: string;
  /** ...or its bytes, fetched by the main thread. */
  readonly bytes?: ArrayBuffer;
}

export interface Stop {
  readonly kind: 'stop';
}

export type ToWorker = PackTask | Stop;

export interface PackChecked {
  readonly kind: 'checked';
  readonly task: number;
  readonly outcome: PackCheckOutcome;
}

/** The worker could not read the pack's file. */
export interface PackUnreadable {
  readonly kind: 'unreadable';
  readonly task: number;
  readonly message: string;
}

/** A failure that is not the pack's (a bug): ends the check. */
export interface WorkerFailure {
  readonly kind: 'failure';
  readonly message: string;
  readonly stack?: string;
}

export type FromWorker = PackChecked | PackUnreadable | WorkerFailure;
