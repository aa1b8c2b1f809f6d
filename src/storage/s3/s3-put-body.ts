/**
 * The body of a PutObject request. S3 signs a hash of the payload (`x-amz-content-sha256`); given
 * a buffer, the SDK computes it on the calling thread before sending. A pack arrives as parts
 * (ObjectBody) and is named by its SHA-256 (repository-format.md §2), which its writer has just
 * computed off the main thread: with that hash (PutOptions.sha256) the parts are streamed as they
 * are and the hash goes in the header, so a pack is neither joined into one new buffer nor hashed
 * a second time. The service still checks the body against the signed hash and refuses a
 * mismatch, as before. Without it the parts are joined and the SDK hashes them. A pack spooled
 * to disk (FileBody) is streamed from its file the same way.
 *
 * Measured on a 1 GiB backup into a local Ceph RGW: the join and the SDK's hashing cost the main
 * thread ≈ 1.9 s, and the garbage collection of the joined buffers ≈ 0.8 s
 * (docs/benchmarks-history.md, part O).
 */
import { Readable } from 'node:stream';
import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { bodyLength, bodyPieces, FileBody, readBody, type ObjectBody } from '../object-store.js';

const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';

/** What PutObject sends: the body and its length. */
export interface PutBody {
  readonly body: Uint8Array | Readable;
  readonly length: number;
}

/**
 * Parts or a file as a stream when their SHA-256 is known, else joined (or read) for the SDK to
 * hash.
 */
export async function putBody(data: ObjectBody, sha256: string | undefined): Promise<PutBody> {
  const length = bodyLength(data);
  if (sha256 !== undefined && data instanceof FileBody)
    return { body: Readable.from(bodyPieces(data), { objectMode: false }), length };
  if (sha256 === undefined || !Array.isArray(data)) return { body: await readBody(data), length };
  return { body: partsStream(data as readonly Uint8Array[]), length };
}

/**
 * Sends `sha256` as the signed payload hash of `command`: the signer uses a hash already in the
 * request's headers instead of computing one (and cannot compute one for a stream).
 */
export function signPayloadHash(command: PutObjectCommand, sha256: string): void {
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) request.headers[PAYLOAD_HASH_HEADER] = sha256;
      return next(args);
    },
    { step: 'build', name: 'holdfastPayloadHash' },
  );
}

/** The parts back to back, without copies; empty parts are skipped (an empty push ends a read). */
function partsStream(parts: readonly Uint8Array[]): Readable {
  let next = 0;
  return new Readable({
    read() {
      while (next < parts.length) {
        const part = parts[next++]!;
        if (part.byteLength > 0 && !this.push(part)) return;
      }
      this.push(null);
    },
  });
}
