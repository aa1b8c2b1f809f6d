/**
 * Deterministic pseudo-random bytes (AES-256-CTR keystream of a seed): incompressible like real
 * media or encrypted data, yet the same on every run so a failure can be reproduced.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** `size` bytes derived from `seed`; equal seeds give equal bytes (and equal prefixes). */
export function seededBytes(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

/** Writes `size` seeded bytes to `path` in 4 MiB pieces, replacing any file there. */
export async function writeSeededFile(path: string, size: number, seed: string): Promise<void> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const piece = 4 * 1024 * 1024;
  const handle = await open(path, 'w');
  try {
    for (let done = 0; done < size; done += piece) {
      await handle.write(cipher.update(Buffer.alloc(Math.min(piece, size - done))));
    }
  } finally {
    await handle.close();
  }
}
