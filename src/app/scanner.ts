/**
 * Scanner: counts the files and bytes a backup will visit, concurrently with the backup, so the
 * progress line can show a percentage and an ETA. Metadata only; errors are ignored here (the
 * archiver reports them).
 */
import { resolve } from 'node:path';
import { throwIfAborted } from '../core/index.js';
import { DirectoryReader, statEntry } from '../sources/index.js';

export interface ScanTotals {
  files: number;
  bytes: number;
  done: boolean;
}

export async function scanTargets(
  paths: readonly string[],
  exclude: ((path: Buffer, isDir: boolean) => boolean) | undefined,
  totals: ScanTotals,
  signal?: AbortSignal,
): Promise<void> {
  const stack: Buffer[] = [];
  for (const p of paths) {
    try {
      const e = await statEntry(Buffer.from(resolve(p)));
      if (e.type === 'dir') stack.push(Buffer.from(resolve(p)));
      else if (e.type === 'file') {
        totals.files++;
        totals.bytes += Number(e.size);
      }
    } catch {
      // reported by the archiver
    }
  }
  const directories = new DirectoryReader(signal ? { signal } : {});
  while (stack.length > 0) {
    throwIfAborted(signal);
    const dir = stack.pop()!;
    let listing;
    try {
      listing = await directories.list(dir);
    } catch {
      continue;
    }
    const depth = stack.length;
    for (const e of listing.entries) {
      const path =
        dir.length === 1
          ? Buffer.concat([dir, e.name])
          : Buffer.concat([dir, Buffer.from('/'), e.name]);
      if (exclude?.(path, e.type === 'dir')) continue;
      if (e.type === 'dir') stack.push(path);
      else if (e.type === 'file') {
        totals.files++;
        totals.bytes += Number(e.size);
      }
    }
    // The stack pops the last subdirectory first: that is the order they will be listed in.
    directories.readAhead(stack.slice(depth).reverse());
  }
  totals.done = true;
}
