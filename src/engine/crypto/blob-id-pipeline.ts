/**
 * Blob ids computed on a helper thread, in the order they were started (the holdfast_crypto
 * addon, native/blob_id_pipeline.c), so that a backup can seal one chunk and search the next cut
 * while the helper hashes: a large file or a stream then keeps two cores busy instead of one.
 * The ids are exactly blobIdOf's. Each pipeline has a thread of its own: close() stops it (a
 * pipeline that is only dropped stops when it is garbage-collected).
 */
import type { BlobId } from '../../core/index.js';
import { TYPE_CODES } from './keyed-hash.js';
import { blobCrypto, type BlobIdPipelineHandle } from './native-crypto.js';

/** Ids that may be outstanding at once (the addon's limit). */
export const BLOB_ID_PIPELINE_DEPTH = 4;

export class BlobIdPipeline {
  private readonly addon = blobCrypto();
  private readonly handle: BlobIdPipelineHandle = this.addon.blobIdPipeline();
  /** The started ids' tickets with their plaintexts, oldest first. */
  private readonly started: { readonly ticket: number; readonly plaintext: Buffer }[] = [];

  constructor(private readonly idKey: Buffer) {}

  /** Ids started and not yet taken. */
  get outstanding(): number {
    return this.started.length;
  }

  /**
   * Starts the id of `plaintext`, whose bytes must stay unchanged until that id is taken by
   * next() or take(), or drain() returns. Throws when BLOB_ID_PIPELINE_DEPTH ids are outstanding.
   */
  start(type: 'data' | 'tree', plaintext: Buffer): void {
    const ticket = this.addon.blobIdStart(this.handle, this.idKey, TYPE_CODES[type], plaintext);
    this.started.push({ ticket, plaintext });
  }

  /** The oldest outstanding id, once computed. */
  next(): BlobId {
    return this.take().id;
  }

  /** The oldest outstanding id, once computed, with the plaintext it was started for. */
  take(): { readonly id: BlobId; readonly plaintext: Buffer } {
    const oldest = this.started.shift();
    if (oldest === undefined) throw new Error('BlobIdPipeline.next: no id outstanding');
    const id = this.addon.blobIdCollect(this.handle, oldest.ticket) as BlobId;
    return { id, plaintext: oldest.plaintext };
  }

  /** Forgets the outstanding ids once the helper has finished them: their bytes are free. */
  drain(): void {
    this.started.length = 0;
    this.addon.blobIdDrain(this.handle);
  }

  /** drain(), then stops the helper thread (ids started later are computed by start itself). */
  close(): void {
    this.started.length = 0;
    this.addon.blobIdClose(this.handle);
  }
}
