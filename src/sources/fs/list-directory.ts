/** listDirectory: a directory's entries in byte order, each described by statEntry. */
import { readdir } from 'node:fs/promises';
import { errnoCode, isHoldfastError, mapLimit, throwIfAborted } from '../../core/index.js';
import type { FsEntry } from './fs-entry.js';
import { joinPath } from './path-bytes.js';
import { statEntry, type StatEntryOptions } from './stat-entry.js';

export interface DirectoryListing {
  /** Sorted by raw name bytes (Buffer.compare), the order trees store them in. */
  readonly entries: FsEntry[];
  /** Entries that exist but could not be described; the listing goes on without them. */
  readonly errors: Array<{ path: Buffer; error: Error }>;
}

export interface ListDirectoryOptions extends StatEntryOptions {
  /** lstat calls in flight (default 16): enough to hide latency on network file systems. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_CONCURRENCY = 16;

/**
 * Lists `dir` (whose own entry the caller already has). An entry that disappears between readdir
 * and lstat (ENOENT) is left out silently — it was deleted while we looked, as restic treats it.
 * Any other per-entry failure lands in `errors`. Rejects with the readdir error (a Node system
 * error: ENOENT, EACCES, ENOTDIR, ...) when the directory itself cannot be read, and with
 * INTERRUPTED when the signal fires.
 */
export async function listDirectory(
  dir: Buffer,
  options: ListDirectoryOptions = {},
): Promise<DirectoryListing> {
  throwIfAborted(options.signal);
  const names = await readdir(dir, { encoding: 'buffer' });
  return statNames(dir, names, options);
}

/** The second half of listDirectory, separate so tests can name entries that no longer exist. */
export async function statNames(
  dir: Buffer,
  names: readonly Buffer[],
  options: ListDirectoryOptions = {},
): Promise<DirectoryListing> {
  const sorted = [...names].sort((x, y) => Buffer.compare(x, y));
  const results = await mapLimit(
    sorted,
    options.concurrency ?? DEFAULT_CONCURRENCY,
    async (name) => {
      throwIfAborted(options.signal);
      const path = joinPath(dir, name);
      try {
        return { entry: await statEntry(path, options) };
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return undefined;
        // A missing native addon would fail every entry alike: that is not one entry's problem.
        if (isHoldfastError(err) && err.code !== 'SOURCE_UNAVAILABLE') throw err;
        return { path, error: err instanceof Error ? err : new Error(String(err)) };
      }
    },
  );
  const listing: DirectoryListing = { entries: [], errors: [] };
  for (const result of results) {
    if (result === undefined) continue;
    if ('entry' in result) listing.entries.push(result.entry);
    else listing.errors.push(result);
  }
  return listing;
}
