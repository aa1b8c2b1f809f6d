/**
 * The pieces of one step of the archiver's depth-first walk (archiver.ts): what a step returns,
 * what walking one directory found, and the entries a directory is walked with.
 */
import type { BlobId } from '../../core/index.js';
import type { BriefEntry, DirectoryListing, FsEntry } from '../../sources/index.js';
import type { ParentDir } from './parent-trees.js';

/**
 * One step of the walk. `walked` settles when the entry and everything below it were listed and
 * their files queued; `result` when its node (or tree) is saved.
 */
export interface Step<T> {
  /** Undefined when it already has (no promise per file when nothing waits). */
  readonly walked: Promise<void> | undefined;
  readonly result: Promise<T>;
}

export function finished<T>(result: Promise<T>): Step<T> {
  return { walked: undefined, result };
}

/**
 * Marks a promise as handled: results wait in lists until their directory is complete, and a
 * rejection meanwhile (abort, storage failure) must not count as unhandled. Whoever awaits the
 * promise later still sees the rejection.
 */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

export const noop = (): void => undefined;

/**
 * Recorded instead of a listing digest for a directory whose tree left something out (an entry
 * that could not be described or read): no listing hashes to it, so the next backup compares
 * that directory entry by entry, but still finds its tree through the record.
 */
export const NOT_REUSABLE = Buffer.alloc(32);

export const NO_PARENT: ParentDir = { nodes: new Map(), tree: undefined };

/** What walking one directory found; the tree is decided once everything below it is saved. */
export interface DirWalk {
  readonly parent: ParentDir;
  /** The listing's digest; undefined for the directories on the way to the targets. */
  readonly digest?: Buffer;
  /** False when the listing left entries out (they could not be described). */
  readonly complete: boolean;
  /** Set when the listing equals the walk cache's: the recorded tree may be taken over. */
  readonly reuse?: Reuse;
}

export interface Reuse {
  readonly tree: BlobId;
  readonly listing: DirectoryListing;
  /** The directory's entries after exclusions, in tree order. */
  readonly children: readonly Child[];
  /** The subdirectories walked, by name (latin1): their subtree, and the one recorded. */
  readonly subtrees: ReadonlyMap<string, WalkedSubdir>;
}

export interface WalkedSubdir {
  readonly result: Promise<BlobId>;
  readonly recorded: BlobId | undefined;
}

/** An entry of a directory being walked: described in full, or in brief (known listings). */
export type Child = FsEntry | BriefEntry;

/** Two lists sorted by name bytes, merged. */
export function mergeByName(a: readonly FsEntry[], b: readonly BriefEntry[]): Child[] {
  const out: Child[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length)
    out.push(Buffer.compare(a[i]!.name, b[j]!.name) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
