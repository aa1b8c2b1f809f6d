/** One blob's location, as recorded in pack headers and index files. */
import type { BlobId } from '../../core/index.js';
import type { BlobType } from './blob-type.js';

export const COMPRESSION_NONE = 0;
export const COMPRESSION_ZSTD = 1;
export type CompressionCode = typeof COMPRESSION_NONE | typeof COMPRESSION_ZSTD;

export interface PackEntry {
  readonly type: BlobType;
  readonly id: BlobId;
  /** Byte offset of the sealed blob inside the pack. */
  readonly offset: number;
  /** Sealed length: nonce + ciphertext + tag. */
  readonly length: number;
  /** Plaintext length before compression. */
  readonly rawLength: number;
  readonly compression: CompressionCode;
}
