/**
 * The storage contract. An ObjectStore holds the repository's objects (config, keys, packs,
 * indexes, snapshots, locks) as opaque byte strings addressed by kind and name. It knows nothing
 * of encryption or the repository format; see docs/design/repository-format.md, "Storage".
 *
 * Contract every implementation satisfies (checked by storage/testing's conformance suite):
 * - `put` is write-once: when an object of that kind and name exists it rejects with
 *   HoldfastError code OBJECT_EXISTS and leaves the existing object untouched. When `put`
 *   resolves the object is durable (fsync or the service's acknowledgement) and visible to
 *   `get`, `stat` and `list` of every client. A failed or aborted `put` leaves no object. Data
 *   given as parts (ObjectBody) is stored as the parts back to back, and a FileBody as its
 *   file's bytes; once `put` settles the store holds no reference to the caller's buffers and no
 *   longer reads the file.
 * - `get` of a missing object rejects with code NOT_FOUND; a range past the end rejects too
 *   (with INTEGRITY: the caller's index disagrees with the object).
 * - `list` yields each object of a kind once, in no particular order.
 * - `delete` of a missing object succeeds (idempotent).
 * - Transient failures reject with STORAGE_UNAVAILABLE, permanent ones with STORAGE_FAILED;
 *   retrying is the job of the retry decorator, not of each backend.
 * - Names: the config object is named CONFIG_NAME, every other object by a 64-hex-digit id;
 *   any other name, or a malformed range, rejects with FAILURE (see object-name.ts).
 * - A call whose signal has fired rejects with INTERRUPTED. A `put` honours the signal up to the
 *   moment the object becomes visible; after that it completes.
 * - Object lock is an optional capability (`retention`, see ObjectRetention): only a store that
 *   has it accepts `PutOptions.retention`; a decorator forwards it when its inner store has it.
 * - Object files are an optional capability too (`files`, see ObjectFiles): only a store whose
 *   objects are plain files on this machine has it; a decorator forwards it only when a read
 *   that bypasses it loses nothing (the rate limiter and the test stores do not forward it).
 */

import { open } from 'node:fs/promises';
import { HoldfastError, describeError } from '../core/index.js';

export const OBJECT_KINDS = ['config', 'key', 'pack', 'index', 'snapshot', 'lock'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** The single object of kind `config` is always named this. */
export const CONFIG_NAME = 'config';

/**
 * An object's bytes as given to `put`: one buffer, or parts that are the object laid back to
 * back (a pack's blobs, header and trailer). A store that can write parts as they are does (the
 * local store with vectored writes, the repository server's client, S3 when given the body's
 * SHA-256); the others join them. Not joining saves a copy of every pack and the page faults of
 * fresh memory for it, and memory: a pack is held once, in its parts.
 */
export type ObjectBody = Uint8Array | readonly Uint8Array[] | FileBody;

/**
 * An object's bytes in a file on this machine, `length` bytes from its start: a pack spooled to
 * disk while it was filled (engine/spool), so that the packs being uploaded are not held in
 * memory. A store reads the file again for each attempt; the file must not change until `put`
 * settles, and whoever made it removes it afterwards.
 */
export class FileBody {
  constructor(
    readonly path: string,
    readonly length: number,
  ) {}
}

/** Bytes per read of a FileBody. */
const FILE_PIECE_BYTES = 1024 * 1024;

/** The object's length in bytes. */
export function bodyLength(body: ObjectBody): number {
  if (body instanceof FileBody) return body.length;
  if (!Array.isArray(body)) return (body as Uint8Array).byteLength;
  let length = 0;
  for (const part of body as readonly Uint8Array[]) length += part.byteLength;
  return length;
}

/**
 * The object's bytes in one buffer: `body` itself when it is one, else a new buffer (parts
 * joined, a file read). Rejects when a FileBody's file is shorter than its length.
 */
export async function readBody(body: ObjectBody): Promise<Uint8Array> {
  if (!(body instanceof FileBody))
    return Array.isArray(body)
      ? Buffer.concat(body as readonly Uint8Array[])
      : (body as Uint8Array);
  const bytes = Buffer.allocUnsafe(body.length);
  let at = 0;
  for await (const piece of bodyPieces(body)) {
    bytes.set(piece, at);
    at += piece.byteLength;
  }
  return bytes;
}

/**
 * The object's bytes in order, as pieces: a buffer as it is, parts as they are, a file in fresh
 * buffers of up to 1 MiB (a consumer may keep them). Throws fileBodyError when a FileBody's
 * file cannot be read or is shorter than its length.
 */
export async function* bodyPieces(body: ObjectBody): AsyncGenerator<Uint8Array> {
  if (!(body instanceof FileBody)) {
    if (!Array.isArray(body)) yield body as Uint8Array;
    else for (const part of body as readonly Uint8Array[]) yield part;
    return;
  }
  let handle;
  try {
    handle = await open(body.path, 'r');
  } catch (err) {
    throw fileBodyError(body, err);
  }
  try {
    for (let at = 0; at < body.length;) {
      const piece = Buffer.allocUnsafeSlow(Math.min(FILE_PIECE_BYTES, body.length - at));
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(piece, 0, piece.length, at));
      } catch (err) {
        throw fileBodyError(body, err);
      }
      if (bytesRead === 0) throw fileBodyError(body, `it ends at byte ${at}`);
      at += bytesRead;
      yield bytesRead === piece.length ? piece : piece.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A FileBody's file could not be read whole: not a storage failure, and not one that a retry
 * mends (the file is made once, before the put).
 */
export function fileBodyError(body: FileBody, cause: unknown): HoldfastError {
  return new HoldfastError(
    'FAILURE',
    `could not read the ${body.length} bytes of ${body.path} to store: ${describeError(cause)}`,
    { cause, hint: 'the file changed or was removed while it was stored; run the command again' },
  );
}

export interface ObjectInfo {
  readonly name: string;
  readonly size: number;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export interface StoreCallOptions {
  readonly signal?: AbortSignal;
}

/** Object lock modes, as in S3: governance can be bypassed by privileged users, compliance never. */
export type RetentionMode = 'governance' | 'compliance';

/** An object lock: the object cannot be deleted or overwritten before `until`. */
export interface Retention {
  readonly mode: RetentionMode;
  readonly until: Date;
}

export interface GetOptions extends StoreCallOptions {
  /**
   * Memory the caller offers for the bytes. A store that receives them as a stream (S3, a
   * repository server) writes them there, and returns a Buffer over the start of it, when they
   * fit; otherwise, or if it does not stream, it returns memory of its own. The caller tells
   * which by comparing the returned Buffer's `buffer` with `into`'s: a caller that reuses its
   * memory for many objects (a restore's pack slabs) saves a fresh allocation, and its page
   * faults, per object. Decorators that keep or share what they return must not pass it down.
   */
  readonly into?: Uint8Array;
  /**
   * Where a store that receives objects as streams may write a whole object (no `range`) instead
   * of into memory: piece by piece, in order, each write awaited before the next piece is read,
   * so that an object as large as a pack never sits in this process's memory. Such a store then
   * resolves with an empty Buffer once the last piece is written; the others ignore `sink` and
   * resolve with the bytes. A retried call writes from offset 0 again. Used for whole packs a
   * restore keeps on disk (PackSpool); decorators that keep or share what they return must not
   * pass it down.
   */
  readonly sink?: ByteSink;
}

/** Receives an object's bytes as they arrive (GetOptions `sink`). */
export interface ByteSink {
  /**
   * Takes `chunk`, which is `offset` bytes into the object; the chunk's memory may be reused once
   * the promise settles. Must not reject: a sink that cannot keep a piece remembers so itself,
   * and the store goes on (its failure is not the storage's, and must not be retried as one).
   */
  write(chunk: Uint8Array, offset: number): Promise<void>;
}

export interface PutOptions extends StoreCallOptions {
  /** Lock the new object. Only for stores that have `retention`; the engine never passes it to others. */
  readonly retention?: Retention;
  /**
   * The SHA-256 of the body (64 lowercase hex digits), when the caller knows it — every object
   * but the config is named by it (repository-format.md §2). A store whose protocol carries a
   * payload hash (S3's signed one) sends it instead of hashing the body again, and the service
   * then refuses a body that does not match; the others ignore it.
   */
  readonly sha256?: string;
}

/**
 * Object lock (WORM) capability of a store (S3 Object Lock). Retention is set per object at put
 * time and can only be extended. Deleting a retained object rejects with STORAGE_FAILED; callers
 * that delete check `get` first (see docs/design/repository-format.md, "Object lock").
 */
export interface ObjectRetention {
  /** Makes the storage enforce retention: creates it with object lock, or verifies that it has it. */
  prepare(options?: StoreCallOptions): Promise<void>;
  /** The object's retention, undefined when it has none; NOT_FOUND when the object is missing. */
  get(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<Retention | undefined>;
  /** Moves the retain-until date to `retention.until`; a date at or before the current one is a no-op. */
  extend(
    kind: ObjectKind,
    name: string,
    retention: Retention,
    options?: StoreCallOptions,
  ): Promise<void>;
}

/**
 * Direct file access (LocalStore): the path of the file holding an object, so that a worker
 * thread can read an object's ranges itself, with synchronous reads into a buffer it reuses,
 * instead of a store call on the main thread and a transfer. Objects are write-once, so such a
 * file never changes under a reader; a missing file, or one shorter than a range, is for the
 * reader what `get`'s NOT_FOUND or INTEGRITY is for a caller.
 */
export interface ObjectFiles {
  /** Absolute path of the object's file (whether it exists or not). Validates the name. */
  path(kind: ObjectKind, name: string): string;
}

export interface ObjectStore {
  /** Where this store points, for messages (never contains credentials). */
  readonly location: string;

  /** Prepares an empty store (directories, bucket check). Idempotent. */
  create(options?: StoreCallOptions): Promise<void>;

  /** Present only on stores that support object lock. */
  readonly retention?: ObjectRetention | undefined;

  /** Present only on stores whose objects are files on this machine. */
  readonly files?: ObjectFiles | undefined;

  /** Stores `data`, which must not change until the promise settles (see the contract above). */
  put(kind: ObjectKind, name: string, data: ObjectBody, options?: PutOptions): Promise<void>;

  /**
   * The object's bytes, or `range` of them. The caller owns the returned Buffer: the store keeps
   * no reference to its memory and gives it to no other caller (a small Buffer may still be a
   * slice of Node's shared pool), so the caller may transfer its ArrayBuffer to a worker thread
   * when the Buffer spans all of it. With `options.into`, the Buffer may be a view of that memory
   * instead (see GetOptions).
   */
  get(kind: ObjectKind, name: string, range?: ByteRange, options?: GetOptions): Promise<Buffer>;

  /** Size of the object, or undefined when it does not exist. */
  stat(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<ObjectInfo | undefined>;

  list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo>;

  delete(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<void>;

  /** Releases connections and handles. The store is unusable afterwards. */
  close(): Promise<void>;
}
