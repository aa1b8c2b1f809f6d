/**
 * Joining the parts of a file (a pack's blobs and header) into the bytes to store, and naming it
 * by their SHA-256 (fileIdOf), in the thread pool. For a pack this is a copy of 16 MiB with its
 * page faults and a hash of it: on the main thread it took longer than everything else done
 * there per pack, and it held up the walk and the workers' reports meanwhile.
 */
import { blobCrypto } from './native-crypto.js';

export interface JoinedFile<T extends string> {
  readonly bytes: Buffer;
  /** fileIdOf(bytes). */
  readonly id: T;
}

/** The parts must not change until the promise settles; the result is a new buffer. */
export async function joinFile<T extends string>(
  parts: readonly Uint8Array[],
): Promise<JoinedFile<T>> {
  let length = 0;
  for (const part of parts) length += part.length;
  // Not from Buffer's pool, and not zeroed: the job overwrites every byte.
  const bytes = Buffer.allocUnsafeSlow(length);
  const id = await blobCrypto().joinFile(parts, bytes);
  return { bytes, id: id as T };
}
