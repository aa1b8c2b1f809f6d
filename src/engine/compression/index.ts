/**
 * compression: zstd compression of Blob plaintext before sealing. A Blob is stored compressed
 * only when that makes it strictly smaller; the pack entry records which, plus the raw length
 * that decompression must reproduce (see the Pack section of docs/design/repository-format.md).
 */
export {
  compressBlob,
  compressBlobView,
  compressionSettings,
  decompressBlob,
  decompressBlobEach,
} from './blob-compression.js';
export { parseCompressionMode, type CompressionMode } from './compression-mode.js';
