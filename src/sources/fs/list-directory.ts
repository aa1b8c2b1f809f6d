/** listDirectory: a directory's entries in byte order, each described by statEntry. */
import { lstatSync, readdirSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { errnoCode, isHoldfastError, throwIfAborted } from '../../core/index.js';
import { systemAccountNames } from './account-names.js';
import type { FsEntry } from './fs-entry.js';
import { joinPath } from './path-bytes.js';
import { entryFromStats, type StatEntryOptions } from './stat-entry.js';

export interface DirectoryListing {
  /** Sorted by raw name bytes (Buffer.compare), the order trees store them in. */
  readonly entries: FsEntry[];
  /** Entries that exist but could not be described; the listing goes on without them. */
  readonly errors: Array<{ path: Buffer; error: Error }>;
}

export interface ListDirectoryOptions extends StatEntryOptions {
  /**
   * Entries described per turn of the event loop (default 128). They are described with
   * synchronous syscalls — on cached metadata several times cheaper than fs/promises, which
   * dominated the main thread's profile of a backup — so a huge directory yields now and then
   * instead of stalling the event loop (worker reports, uploads) for its whole length.
   */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_BATCH = 128;

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
  // Synchronous like the lstat calls below: one syscall pair on cached metadata costs less than
  // the thread-pool round trip, which showed up as idle time between directories.
  const names = readdirSync(dir, { encoding: 'buffer' });
  return statNames(dir, names, options);
}

/** The second half of listDirectory, separate so tests can name entries that no longer exist. */
export async function statNames(
  dir: Buffer,
  names: readonly Buffer[],
  options: ListDirectoryOptions = {},
): Promise<DirectoryListing> {
  const sorted = [...names].sort((x, y) => Buffer.compare(x, y));
  const batch = Math.max(1, options.concurrency ?? DEFAULT_BATCH);
  const owners = new OwnerNames(options);
  const listing: DirectoryListing = { entries: [], errors: [] };
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && i % batch === 0) await nextTurn();
    throwIfAborted(options.signal);
    const path = joinPath(dir, sorted[i]!);
    try {
      // throwIfNoEntry: a vanished entry costs no exception.
      const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
      if (st === undefined) continue;
      const user = await owners.user(Number(st.uid));
      const group = await owners.group(Number(st.gid));
      listing.entries.push(entryFromStats(path, st, user, group));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      // A missing native addon would fail every entry alike: that is not one entry's problem.
      if (isHoldfastError(err) && err.code !== 'SOURCE_UNAVAILABLE') throw err;
      listing.errors.push({ path, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return listing;
}

/**
 * Owner names per listing: a directory's entries nearly always share a handful of owners, so
 * each id is looked up once rather than awaited twice per entry.
 */
class OwnerNames {
  private readonly users = new Map<number, string | undefined>();
  private readonly groups = new Map<number, string | undefined>();
  private readonly accounts;

  constructor(options: StatEntryOptions) {
    this.accounts = options.accountNames ?? systemAccountNames();
  }

  async user(uid: number): Promise<string | undefined> {
    if (!this.users.has(uid)) this.users.set(uid, await this.accounts.userName(uid));
    return this.users.get(uid);
  }

  async group(gid: number): Promise<string | undefined> {
    if (!this.groups.has(gid)) this.groups.set(gid, await this.accounts.groupName(gid));
    return this.groups.get(gid);
  }
}
