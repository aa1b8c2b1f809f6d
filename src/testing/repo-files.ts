/**
 * Looking at a local repository from the outside, as bytes on disk: which files exist, how much
 * space they take, and deliberate damage for integrity tests.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Every regular file below `dir`, as absolute paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Bytes allocated on disk for all files below `dir` (st_blocks × 512), as `du` counts them. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for (const file of await listFiles(dir)) total += (await lstat(file)).blocks * 512;
  return total;
}

/** Relative path → SHA-256 of every file below `dir`: equal maps mean nothing was written. */
export async function fileDigests(dir: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const file of await listFiles(dir)) {
    digests.set(
      relative(dir, file),
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    );
  }
  return digests;
}

/** The pack files of a local repository (data/xx/<id>), largest first. */
export async function packFiles(repo: string): Promise<Array<{ path: string; size: number }>> {
  const packs = (await listFiles(join(repo, 'data'))).map(async (path) => ({
    path,
    size: (await lstat(path)).size,
  }));
  return (await Promise.all(packs)).sort((a, b) => b.size - a.size);
}

/** Inverts every bit of the byte at `offset` of `path`, in place. */
export async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}
