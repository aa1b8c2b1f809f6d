/**
 * zstd compression of Blob plaintext. Levels: auto = zstd 3 (zstd's own default), max = zstd 19.
 * Measured on 1 MiB chunks of JavaScript source, one core: level 3 ~170 MB/s at ratio 0.262,
 * level 19 ~6 MB/s at 0.246. The level is not recorded in the repository (any zstd frame
 * decodes the same way), so these choices can change without a format change.
 *
 * auto first tries samples of a large blob (looksCompressible): data already compressed or
 * encrypted (media, archives, database pages of a compressed table) would otherwise cost a
 * full zstd pass per blob for nothing — about 0.45 s of CPU per GiB here, a tenth of an
 * incompressible backup's CPU. max always tries the whole blob.
 *
 * Frames carry the content size but no zstd checksum: the sealed Blob's AEAD tag already
 * authenticates every byte, so a second checksum would only cost CPU and 4 bytes.
 *
 * We call the native binding directly rather than zstd-napi's Compressor/Decompressor: the
 * Decompressor sizes its output from the frame header, so a damaged header could request an
 * arbitrary allocation, whereas here the output is exactly the raw length the index records.
 */
import binding from 'zstd-napi/binding.js';
import { constants } from 'node:buffer';
import { HoldfastError } from '../../core/index.js';
import type { CompressionMode } from './compression-mode.js';

const LEVELS = { auto: 3, max: 19 } as const;

/**
 * The zstd level of `mode` (0: stored raw) and whether a large blob is tried in samples first:
 * what the native file sealers (native/file_seal.c) compress with, the same as compressBlobView.
 */
export function compressionSettings(mode: CompressionMode): { level: number; sampled: boolean } {
  return mode === 'off'
    ? { level: 0, sampled: false }
    : { level: LEVELS[mode], sampled: mode === 'auto' };
}

/** Blobs at least this large are sampled first in mode auto; smaller ones are tried whole. */
const SAMPLED_FROM = 128 * 1024;
const SAMPLES = 8;
const SAMPLE_SIZE = 4096;
/**
 * A sample that shrinks below this fraction counts as compressible. zstd makes random bytes a
 * few bytes longer, and text of any kind shrinks far below it, even in 4 KiB.
 */
const SAMPLE_RATIO = 0.97;

// Per process (per worker thread), one context per level: re-creating a context costs
// allocations sized for the level, and switching one context between levels resizes it.
// Calls are synchronous, so the shared contexts and scratch buffer are never used concurrently.
const compressors = new Map<number, binding.CCtx>();
let decompressor: binding.DCtx | undefined;
/** decompressBlobEach's context: a stream keeps its state between calls. */
let streamer: binding.DCtx | undefined;
/** Output buffer of compressBound(largest input so far); the result is copied out of it. */
let scratch = Buffer.alloc(0);

/**
 * Returns the compressed bytes only when strictly smaller than `data`, else undefined: the
 * caller then stores the Blob raw. Mode 'off' always returns undefined. The result is a fresh
 * Buffer the caller may keep.
 */
export function compressBlob(data: Buffer, mode: CompressionMode): Buffer | undefined {
  const view = compressBlobView(data, mode);
  return view === undefined ? undefined : Buffer.from(view);
}

/**
 * compressBlob without the copy: the result is a view of this thread's scratch buffer, valid
 * only until the next compressBlob or compressBlobView call (a caller that seals it at once).
 */
export function compressBlobView(data: Buffer, mode: CompressionMode): Buffer | undefined {
  if (mode === 'off' || data.length === 0) return undefined;
  const level = LEVELS[mode];
  let cctx = compressors.get(level);
  if (cctx === undefined) {
    cctx = new binding.CCtx();
    compressors.set(level, cctx);
  }
  const bound = binding.compressBound(data.length);
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
  if (mode === 'auto' && data.length >= SAMPLED_FROM && !looksCompressible(cctx, data, level))
    return undefined;
  const length = cctx.compress(scratch, data, level);
  if (length >= data.length) return undefined;
  return scratch.subarray(0, length);
}

/**
 * Whether any of SAMPLES evenly spaced SAMPLE_SIZE pieces of `data` compresses: about 3 % of the
 * work of compressing it all. A blob whose compressible part lies wholly between the samples
 * (less than an eighth of it) is stored raw — what is lost is at most that part's saving.
 */
function looksCompressible(cctx: binding.CCtx, data: Buffer, level: number): boolean {
  const step = Math.floor((data.length - SAMPLE_SIZE) / (SAMPLES - 1));
  for (let i = 0; i < SAMPLES; i++) {
    const sample = data.subarray(i * step, i * step + SAMPLE_SIZE);
    if (cctx.compress(scratch, sample, level) < SAMPLE_SIZE * SAMPLE_RATIO) return true;
  }
  return false;
}

/**
 * Decompresses a Blob whose recorded raw length is `expectedLength`. Throws
 * HoldfastError('INTEGRITY') when the input is not valid zstd or does not decompress to exactly
 * that many bytes. Returns a fresh Buffer, or, when `into` has room for `expectedLength` bytes,
 * a view of its start (a caller that consumes each blob at once reuses one buffer instead of
 * allocating, and later collecting, one per blob).
 */
export function decompressBlob(data: Buffer, expectedLength: number, into?: Buffer): Buffer {
  if (
    !Number.isSafeInteger(expectedLength) ||
    expectedLength < 0 ||
    expectedLength > constants.MAX_LENGTH
  ) {
    throw integrityError(`recorded raw length ${expectedLength} is invalid`);
  }
  if (data.length === 0) throw integrityError('compressed data is empty');
  decompressor ??= new binding.DCtx();
  const out =
    into !== undefined && into.length >= expectedLength
      ? into.subarray(0, expectedLength)
      : Buffer.allocUnsafe(expectedLength);
  let length: number;
  try {
    // Fails with "destination buffer too small" when the data is longer than recorded.
    length = decompressor.decompress(out, data);
  } catch (err) {
    throw integrityError('zstd data is corrupt or longer than recorded', err);
  }
  if (length !== expectedLength) {
    throw integrityError(`decompressed to ${length} bytes, ${expectedLength} recorded`);
  }
  return out;
}

/**
 * decompressBlob without the output buffer: `visit` gets the decompressed bytes in order, a
 * piece at a time, each a view of `piece` valid until `visit` returns. Accepts and refuses
 * exactly what decompressBlob does (any number of frames; exactly `expectedLength` bytes), and
 * throws the same errors; `visit` may have seen pieces by then. For a caller that only hashes a
 * large blob (`check`): it needs `piece`, not room for the whole blob.
 */
export function decompressBlobEach(
  data: Buffer,
  expectedLength: number,
  piece: Buffer,
  visit: (bytes: Buffer) => void,
): void {
  if (data.length === 0) throw integrityError('compressed data is empty');
  streamer ??= new binding.DCtx();
  streamer.reset(binding.ResetDirective.sessionOnly);
  let produced = 0;
  let consumed = 0;
  let frameOpen = false;
  for (;;) {
    let result: [number, number, number];
    try {
      result = streamer.decompressStream(piece, data.subarray(consumed));
    } catch (err) {
      throw integrityError('zstd data is corrupt or longer than recorded', err);
    }
    const [left, written, used] = result;
    consumed += used;
    produced += written;
    if (produced > expectedLength)
      throw integrityError('zstd data is corrupt or longer than recorded');
    if (written > 0) visit(piece.subarray(0, written));
    frameOpen = left !== 0;
    // Output still to flush needs another call even when all input is consumed.
    if (consumed === data.length && !frameOpen) break;
    if (used === 0 && written === 0) break; // no progress: the input ends inside a frame
  }
  if (frameOpen || consumed !== data.length)
    throw integrityError('zstd data is corrupt or longer than recorded');
  if (produced !== expectedLength)
    throw integrityError(`decompressed to ${produced} bytes, ${expectedLength} recorded`);
}

function integrityError(detail: string, cause?: unknown): HoldfastError {
  return new HoldfastError('INTEGRITY', `Cannot decompress blob: ${detail}.`, {
    hint: 'The repository may be damaged; run a check that reads the data to find which packs.',
    ...(cause === undefined ? {} : { cause }),
  });
}
