/** listDirectory: a directory's entries in byte order, each described like statEntry does. */
import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { errnoCode, isHoldfastError, throwIfAborted } from '../../core/index.js';
import { systemAccountNames } from './account-names.js';
import { entryTypeOf, type FsEntry, type FsEntryType } from './fs-entry.js';
import { scanDirectory } from './native.js';
import { displayPath, joinPath } from './path-bytes.js';
import { briefScan, decodeScan, type BriefRecord } from './scan-record.js';
import { entryFromScan, entryFromStats, type StatEntryOptions } from './stat-entry.js';

export interface DirectoryListing {
  /** Sorted by raw name bytes (Buffer.compare), the order trees store them in. */
  readonly entries: FsEntry[];
  /** Entries that exist but could not be described; the listing goes on without them. */
  readonly errors: Array<{ path: Buffer; error: Error }>;
  /**
   * SHA-256 of everything the listing was built from but access times (names, the other lstat
   * fields, link targets, extended attributes, in the order the directory returned them): equal
   * digests mean listings equal but for access times, which a backup does not count as a change
   * (engine/archiver/same-node.ts). The walk cache (engine/archiver/walk-cache.ts) compares them
   * with the last backup's. Absent for statNames, which describes names its caller chose.
   */
  readonly digest?: Buffer;
  /**
   * Set when `isKnown` recognised the listing: `entries` then holds only its subdirectories,
   * the other entries are here in brief, and nothing could not be described.
   */
  readonly known?: KnownListing;
}

/** An entry that is not a directory, as a known listing gives it: no metadata decoded. */
export interface BriefEntry {
  readonly name: Buffer;
  readonly type: Exclude<FsEntryType, 'dir'>;
  readonly size: number;
}

export interface KnownListing {
  /** Every entry but the subdirectories, sorted by name bytes. */
  readonly others: readonly BriefEntry[];
  /** The whole listing, decoded as without `isKnown`. */
  decodeAll(): Promise<DirectoryListing>;
}

export interface ListDirectoryOptions extends StatEntryOptions {
  /**
   * statNames only: entries described per turn of the event loop (default 128). They are
   * described with synchronous syscalls — on cached metadata several times cheaper than fs/promises, which
   * dominated the main thread's profile of a backup — so a huge directory yields now and then
   * instead of stalling the event loop (worker reports, uploads) for its whole length.
   */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /**
   * Asked with each listing's directory and digest before its entries are decoded; when it
   * answers true the listing comes back `known` (see DirectoryListing.known). The walk cache
   * (engine/archiver/walk-cache.ts) answers it: a directory whose listing equals the last
   * backup's needs its subdirectories to go on, not its files' metadata.
   */
  readonly isKnown?: (dir: Buffer, digest: Buffer) => boolean;
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
  // One thread-pool job reads the directory and describes every entry (native/scan_directory.c):
  // the syscalls run beside the JavaScript work instead of on the main thread.
  const scan = await scanDirectory(dir);
  throwIfAborted(options.signal);
  const atimes: number[] = [];
  const brief = briefScan(scan, atimes);
  const digest = digestWithoutAccessTimes(scan, atimes);
  if (
    options.isKnown?.(dir, digest) === true &&
    brief.every((r) => r.mode !== undefined && entryTypeOf(r.mode) !== undefined)
  )
    return knownListing(dir, scan, brief, digest, options);
  return decodeListing(dir, scan, digest, options);
}

/** Every entry of a scan, decoded. */
async function decodeListing(
  dir: Buffer,
  scan: Buffer,
  digest: Buffer,
  options: ListDirectoryOptions,
): Promise<DirectoryListing> {
  const scanned = decodeScan(scan);
  scanned.sort((x, y) => Buffer.compare(x.name, y.name));
  const owners = new OwnerNames(options);
  const listing: DirectoryListing = { entries: [], errors: [], digest };
  for (let i = 0; i < scanned.length; i++) {
    // A huge directory yields now and then instead of stalling worker reports and uploads.
    if (i > 0 && i % 1024 === 0) await nextTurn();
    const entry = scanned[i]!;
    const path = joinPath(dir, entry.name);
    if (!('stat' in entry)) {
      listing.errors.push({ path, error: systemError(entry.errno, entry.syscall, path) });
      continue;
    }
    try {
      // Names already looked up are answered without a turn of the microtask queue.
      const user = owners.knownUser(entry.stat.uid) ?? (await owners.user(entry.stat.uid));
      const group = owners.knownGroup(entry.stat.gid) ?? (await owners.group(entry.stat.gid));
      listing.entries.push(entryFromScan(path, entry.stat, user, group));
    } catch (err) {
      if (isHoldfastError(err) && err.code !== 'SOURCE_UNAVAILABLE') throw err;
      listing.errors.push({ path, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return listing;
}

/** A recognised listing: its subdirectories decoded, the rest in brief (names are views). */
async function knownListing(
  dir: Buffer,
  scan: Buffer,
  brief: BriefRecord[],
  digest: Buffer,
  options: ListDirectoryOptions,
): Promise<DirectoryListing> {
  brief.sort((x, y) => Buffer.compare(x.name, y.name));
  const owners = new OwnerNames(options);
  const entries: FsEntry[] = [];
  const others: BriefEntry[] = [];
  for (const record of brief) {
    const type = entryTypeOf(record.mode!)!;
    if (type !== 'dir') {
      others.push({ name: record.name, type, size: record.size });
      continue;
    }
    const entry = decodeScan(scan, undefined, record.start, record.end)[0]!;
    if (!('stat' in entry)) throw new RangeError('a described record decoded as failed');
    const user = owners.knownUser(entry.stat.uid) ?? (await owners.user(entry.stat.uid));
    const group = owners.knownGroup(entry.stat.gid) ?? (await owners.group(entry.stat.gid));
    entries.push(entryFromScan(joinPath(dir, entry.name), entry.stat, user, group));
  }
  const decodeAll = (): Promise<DirectoryListing> => decodeListing(dir, scan, digest, options);
  return { entries, errors: [], digest, known: { others, decodeAll } };
}

/** SHA-256 of a scan buffer whose access times (12 bytes at each offset) read as zeros. */
function digestWithoutAccessTimes(scan: Buffer, atimes: readonly number[]): Buffer {
  const masked = Buffer.from(scan);
  for (const at of atimes) masked.fill(0, at, at + 12);
  return createHash('sha256').update(masked).digest();
}

/** An Error like Node's own fs errors ("EACCES: permission denied, lstat '/x'", code, syscall). */
function systemError(errno: number, syscall: string, path: Buffer): Error {
  const [code, description] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, 'system error'];
  return Object.assign(new Error(`${code}: ${description}, ${syscall} '${displayPath(path)}'`), {
    code,
    errno: -errno,
    syscall,
    path: displayPath(path),
  });
}

/**
 * Describes the given names of `dir` with synchronous syscalls on the calling thread, as
 * listDirectory does in the thread pool; for callers and tests that name entries themselves
 * (including ones that no longer exist).
 */
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

  /** The name of a uid looked up before (undefined: not looked up yet, or it has none). */
  knownUser(uid: number): string | undefined {
    return this.users.get(uid);
  }

  knownGroup(gid: number): string | undefined {
    return this.groups.get(gid);
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
