/**
 * Receiving a PUT body. Objects are at most a pack (≤ 128 MiB, ADR 0004) and a body is checked
 * against its name before it is stored, so it is buffered in memory, which costs at most its
 * Content-Length: the length is required up front, checked against the size limit before a byte
 * is read, and reserved from the server's upload budget (see UploadBudget) so concurrent uploads
 * cannot exhaust memory. The SHA-256 is computed while the bytes arrive.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HoldfastError } from '../core/index.js';

export interface ReceivedBody {
  readonly data: Buffer;
  /** Hex SHA-256 of `data`. */
  readonly sha256: string;
}

/** Content-Length of a request that must have one, within `maxBytes`. */
export function declaredLength(req: IncomingMessage, maxBytes: number): number {
  const header = req.headers['content-length'];
  if (header === undefined || !/^\d{1,15}$/.test(header)) {
    throw new HoldfastError('USAGE', 'a PUT needs a Content-Length header', {
      hint: 'chunked uploads are not accepted; send the object with its length',
    });
  }
  const length = Number(header);
  if (length > maxBytes)
    throw new HoldfastError('USAGE', `object of ${length} bytes exceeds the limit of ${maxBytes}`);
  return length;
}

/**
 * Reads exactly `length` bytes. Rejects (and the caller stores nothing) when the client
 * disconnects early or sends more than it declared.
 */
export function readObjectBody(req: IncomingMessage, length: number): Promise<ReceivedBody> {
  return new Promise((resolve, reject) => {
    const data = Buffer.allocUnsafe(length);
    const hash = createHash('sha256');
    let filled = 0;
    const fail = (err: Error) => {
      req.off('data', onData);
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (filled + chunk.length > length) {
        fail(new HoldfastError('USAGE', 'request body is longer than its Content-Length'));
        return;
      }
      chunk.copy(data, filled);
      hash.update(chunk);
      filled += chunk.length;
    };
    req.on('data', onData);
    req.once('error', fail);
    // 'close' before 'end' means the client went away mid-upload.
    req.once('close', () => {
      if (!req.complete) fail(new HoldfastError('INTERRUPTED', 'client went away during upload'));
    });
    req.once('end', () => {
      if (filled !== length)
        fail(new HoldfastError('USAGE', `request body ended after ${filled} of ${length} bytes`));
      else resolve({ data, sha256: hash.digest('hex') });
    });
  });
}

/**
 * Bytes of PUT bodies the server may hold at once. A request that does not fit is refused with
 * STORAGE_UNAVAILABLE (503, the client backs off and retries) instead of queued, so a slow or
 * hostile client cannot park the server's memory.
 */
export class UploadBudget {
  #available: number;

  constructor(readonly totalBytes: number) {
    this.#available = totalBytes;
  }

  /** Reserves `bytes`; returns the release function. */
  reserve(bytes: number): () => void {
    if (bytes > this.#available) {
      throw new HoldfastError('STORAGE_UNAVAILABLE', 'server busy: too many uploads in progress', {
        hint: 'the client retries; raise --max-upload-memory or lower the client connections',
      });
    }
    this.#available -= bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#available += bytes;
    };
  }
}
