/**
 * Naming a file that is given as parts (a pack's blobs, header and trailer) by the SHA-256 of
 * the parts back to back, in the thread pool: for a 16 MiB pack the hash took longer on the main
 * thread than everything else done there per pack, and held up the walk and the workers'
 * reports meanwhile. The parts are not joined: stores write them as they are (ObjectBody).
 */
import { blobCrypto } from './native-crypto.js';

/** fileIdOf(the parts joined). The parts must not change until the promise settles. */
export async function fileIdOfParts<T extends string>(parts: readonly Uint8Array[]): Promise<T> {
  return (await blobCrypto().fileIdOfParts(parts)) as T;
}
