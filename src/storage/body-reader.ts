/**
 * Reading an HTTP response body of a declared length into memory sized for it, for the stores
 * that receive objects as streams (S3, a repository server): each chunk is copied once, into
 * its place, instead of collected and joined (a second copy, into fresh memory).
 */
import type { Readable } from 'node:stream';
import type { ByteSink } from './object-store.js';

/**
 * Copies `body` into `target`, which is as long as the body declared itself, and returns the
 * bytes received: fewer than `target.length` when the body was cut short. Bytes past the
 * declared length are not read (the stream is destroyed, so its connection is not reused).
 */
export async function readBodyInto(body: Readable, target: Uint8Array): Promise<number> {
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    const room = target.length - total;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    target.set(part, total);
    total += part.length;
    if (part.length < chunk.length) {
      body.destroy();
      break;
    }
  }
  return total;
}

/**
 * Writes `body` to `sink` piece by piece (GetOptions `sink`), at most `declared` bytes, and
 * returns the bytes written: fewer than `declared` when the body was cut short.
 */
export async function readBodyTo(
  body: Readable,
  sink: ByteSink,
  declared: number,
): Promise<number> {
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    const room = declared - total;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    await sink.write(part, total);
    total += part.length;
    if (part.length < chunk.length) {
      body.destroy();
      break;
    }
  }
  return total;
}
