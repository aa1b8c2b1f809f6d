/**
 * Streaming content-defined chunker: the archiver feeds a file's bytes in reads of any size and
 * receives chunks whose boundaries depend only on the content and the repository's chunker key,
 * never on how the stream was split into reads.
 */
import { validateChunkerParams, type ChunkerParams } from './chunker-params.js';
import { CutFinder } from './cut-finder.js';
import { gearTableFromKey } from './gear-table.js';

export class Chunker {
  private readonly finder: CutFinder;
  private readonly maxSize: number;
  /** Tail of earlier inputs that belongs to the current chunk; allocated once, maxSize bytes. */
  private pending: Buffer | undefined;
  private pendingLength = 0;

  /** Throws HoldfastError('CONFIG_INVALID') for a key that is not 32 bytes or bad params. */
  constructor(key: Buffer, params: ChunkerParams) {
    this.finder = new CutFinder(gearTableFromKey(key), validateChunkerParams(params));
    this.maxSize = params.maxSize;
  }

  /**
   * Feeds the next bytes of the stream and returns the chunks completed so far (zero or more).
   * Returned chunks are independent copies: the caller may keep them, and may reuse or modify
   * `data` as soon as push() returns (the chunker copies what it still needs).
   * Memory: at most maxSize bytes are held between calls.
   */
  push(data: Buffer): Buffer[] {
    const chunks: Buffer[] = [];
    let start = 0;
    for (let cut = this.finder.findCut(data, 0); cut >= 0; cut = this.finder.findCut(data, start)) {
      chunks.push(this.take(data, start, cut));
      start = cut;
    }
    this.keep(data, start);
    return chunks;
  }

  /**
   * push() without copies: calls `visit` with each chunk completed by `data`, as a view (of
   * `data`, or of the chunker's own buffer when the chunk began in an earlier push) that stays
   * valid until pushEach returns; `settle` runs after the last visit, while all of them still
   * are. For a caller that consumes each chunk at once (hashes and seals it), or a chunk behind.
   * When `visit` or `settle` throws, the stream is broken off: call reset() before the next one.
   */
  pushEach(data: Buffer, visit: (chunk: Buffer) => void, settle?: () => void): void {
    let start = 0;
    for (let cut = this.finder.findCut(data, 0); cut >= 0; cut = this.finder.findCut(data, start)) {
      visit(this.view(data, start, cut));
      start = cut;
    }
    settle?.();
    this.keep(data, start);
  }

  /** Ends the stream: returns the final partial chunk, if any, and resets for the next stream. */
  finish(): Buffer[] {
    const last = this.pendingLength > 0 ? [this.take(Buffer.alloc(0), 0, 0)] : [];
    this.reset();
    return last;
  }

  /**
   * finish() without a copy: `visit` sees the final partial chunk, if any, as a view valid until
   * finishEach returns; `settle` runs after it (also when there was none).
   */
  finishEach(visit: (chunk: Buffer) => void, settle?: () => void): void {
    try {
      if (this.pendingLength > 0) visit(this.pending!.subarray(0, this.pendingLength));
      settle?.();
    } finally {
      this.reset();
    }
  }

  /** Drops any buffered bytes; the next push() starts a new stream. */
  reset(): void {
    this.finder.reset();
    this.pendingLength = 0;
  }

  /** Builds one chunk from the pending bytes plus data[start, end). */
  private take(data: Buffer, start: number, end: number): Buffer {
    const chunk = Buffer.allocUnsafe(this.pendingLength + end - start);
    if (this.pendingLength > 0) this.pending!.copy(chunk, 0, 0, this.pendingLength);
    data.copy(chunk, this.pendingLength, start, end);
    this.pendingLength = 0;
    return chunk;
  }

  /** The chunk pending bytes + data[start, end) as a view: of data when nothing is pending. */
  private view(data: Buffer, start: number, end: number): Buffer {
    if (this.pendingLength === 0) return data.subarray(start, end);
    // Fits: a chunk is at most maxSize bytes, the size of `pending`.
    data.copy(this.pending!, this.pendingLength, start, end);
    const chunk = this.pending!.subarray(0, this.pendingLength + end - start);
    this.pendingLength = 0;
    return chunk;
  }

  private keep(data: Buffer, start: number): void {
    if (start === data.length) return;
    // Fits: the finder cuts at maxSize, so pending + tail stays below it.
    this.pending ??= Buffer.allocUnsafe(this.maxSize);
    this.pendingLength += data.copy(this.pending, this.pendingLength, start);
  }
}

/** All chunk lengths of a whole buffer, without copying (tests, vectors, the format spec). */
export function chunkLengths(key: Buffer, params: ChunkerParams, data: Buffer): number[] {
  const finder = new CutFinder(gearTableFromKey(key), validateChunkerParams(params));
  const lengths: number[] = [];
  let start = 0;
  for (let cut = finder.findCut(data, 0); cut >= 0; cut = finder.findCut(data, start)) {
    lengths.push(cut - start);
    start = cut;
  }
  if (start < data.length) lengths.push(data.length - start);
  return lengths;
}
