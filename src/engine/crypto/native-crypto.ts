/**
 * Typed access to the holdfast_crypto addon (native/blob_crypto.c): blob ids and blob seals
 * computed by the OpenSSL Node links, written into buffers the caller owns. node:crypto computes
 * the same functions but allocates and copies around every call, which cost several times the
 * cryptography itself on the per-blob paths (docs/adr/0009-native-blob-crypto.md).
 *
 * Loaded on first use; each worker thread gets its own OpenSSL contexts.
 */
import { loadAddon } from '../../core/index.js';

export interface BlobCryptoAddon {
  /** HMAC-SHA256(idKey, typeCode || data) as 64 lowercase hex digits. */
  blobId(idKey: Uint8Array, typeCode: number, data: Uint8Array): string;
  /**
   * Seals `plaintext` under subkey HMAC-SHA256(masterKey, label || context) with `context` as
   * associated data: writes nonce || ciphertext || tag at out[offset] and returns its length.
   */
  sealInto(
    masterKey: Uint8Array,
    label: Uint8Array,
    context: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): number;
  /** The inverse of sealInto: the plaintext length written at out[offset], or -1 (forged). */
  openInto(
    masterKey: Uint8Array,
    label: Uint8Array,
    context: Uint8Array,
    sealed: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): number;
  /**
   * Resolves to the SHA-256 of `parts` laid back to back, as 64 hex digits, computed in the
   * thread pool. The parts may not change until it settles.
   */
  fileIdOfParts(parts: readonly Uint8Array[]): Promise<string>;
  /**
   * Writes the byte ranges of descriptor `from` — (offset, length) pairs in `ranges` — then
   * `tail` to descriptor `to` from its current position, in the thread pool, and resolves to
   * the SHA-256 of what it wrote (native/pack_layout.c). Rejects with an Error carrying
   * `errno` (positive) and `syscall` when a read or write fails.
   */
  packFromSpool(from: number, to: number, ranges: Float64Array, tail: Uint8Array): Promise<string>;
  /** A blob id pipeline: a helper thread of its own (native/blob_id_pipeline.c). */
  blobIdPipeline(): BlobIdPipelineHandle;
  /**
   * Queues blobId(idKey, typeCode, data) on the pipeline's helper and returns its ticket. `data`
   * must stay unchanged until the id is collected or drained; at most 4 outstanding.
   */
  blobIdStart(
    pipeline: BlobIdPipelineHandle,
    idKey: Uint8Array,
    typeCode: number,
    data: Uint8Array,
  ): number;
  /** The id of a started ticket, waiting for the helper; gives up the tickets before it. */
  blobIdCollect(pipeline: BlobIdPipelineHandle, ticket: number): string;
  /** Waits until the helper reads no caller's bytes any more; gives up every ticket. */
  blobIdDrain(pipeline: BlobIdPipelineHandle): void;
  /** Drains and stops the helper thread; later ids are computed by blobIdStart itself. */
  blobIdClose(pipeline: BlobIdPipelineHandle): void;
  /** A pack checker (native/pack_check.c): verifies one pack's blobs on a thread of its own. */
  packChecker(masterKey: Uint8Array, idKey: Uint8Array): PackCheckerHandle;
  /**
   * Hashes `window` (the pack's bytes from offset `at`) into the pack's SHA-256 and verifies
   * the blobs `entries` (index entries, as IndexRecords encodes them) place wholly in it: 1 per
   * blob whose seal opens, whose stored bytes decompress to its raw length and whose plaintext
   * hashes to its id, else 0. One window at a time per checker; `window` and `entries` may not
   * change until it settles.
   */
  packCheckWindow(
    checker: PackCheckerHandle,
    window: Uint8Array,
    at: number,
    entries: Uint8Array,
  ): Promise<Uint8Array>;
  /** The SHA-256 of the windows hashed since the last call (the pack's name); starts anew. */
  packCheckDigest(checker: PackCheckerHandle): string;
  /**
   * Stops the checker's thread and frees its buffers (after the window out, if one is); later
   * windows throw. Without it they go when the checker is garbage-collected.
   */
  packCheckClose(checker: PackCheckerHandle): void;
}

declare const checkerBrand: unique symbol;
/** An opaque native pack checker (an external); only the addon's packCheck* functions take it. */
export interface PackCheckerHandle {
  readonly [checkerBrand]: true;
}

declare const pipelineBrand: unique symbol;
/** An opaque native pipeline (an external); only the addon's blobId* functions take it. */
export interface BlobIdPipelineHandle {
  readonly [pipelineBrand]: true;
}

export function blobCrypto(): BlobCryptoAddon {
  return loadAddon<BlobCryptoAddon>('holdfast_crypto');
}
