/**
 * DirectoryReader: listDirectory with read-ahead for a depth-first walk.
 *
 * A listing is one thread-pool job (native/scan_directory.c). Listed one after another, the walk
 * would wait for every job in turn with the main thread idle; told which directories come next,
 * the reader keeps a few jobs running ahead, so the syscalls of several directories overlap each
 * other and the walk's own JavaScript work.
 *
 * What comes next in a depth-first walk is the children of the directory just listed, before
 * anything announced earlier. Announcements therefore go on a stack: the newest directory's
 * first child is read first. Bounds: at most `parallel` jobs at once, at most `ahead` listings
 * running or finished but not yet taken, and no new job while those hold `aheadEntries` entries
 * (so memory is bounded whatever the directories' sizes); announcements beyond what can be read
 * are simply listed on demand later, and the stack forgets the oldest ones past a few thousand.
 *
 * Told which subdirectories the walk descends into (`descend`), the reader also announces on its
 * own: each listing it reads ahead announces its subdirectories as soon as it is read. Without
 * that, the first subdirectory of every directory is announced only when the walk lists its
 * parent, right before the walk needs it, and the walk waits for it (measured on the kernel
 * tree: 2,000 of 5,100 listings were read on demand, 1,400 more were still running when taken).
 * A walk and the reader may then announce one directory twice; it is listed once. A listing
 * read ahead that the walk turns out not to need takes a place until the walk has gone past it.
 */
import type { FsEntry } from './fs-entry.js';
import {
  listDirectory,
  type DirectoryListing,
  type ListDirectoryOptions,
} from './list-directory.js';

export interface DirectoryReaderOptions extends ListDirectoryOptions {
  /** Listing jobs running at once (default 4, libuv's default pool size). */
  readonly parallel?: number;
  /** Listings read ahead and not yet taken, at most (default 256). */
  readonly ahead?: number;
  /**
   * Entries in listings read ahead and not yet taken, at most (default 4,096: ≈ 0.3 KB of heap
   * each, and a few listings ahead keep the walk fed; at 100,000 a backup of 200,000 small files
   * in directories of 1,000 held 100 listings, ≈ 45 MiB more peak RSS, for no speed).
   */
  readonly aheadEntries?: number;
  /**
   * The subdirectories the walk will list, of an entry of a listing: when given, listings read
   * ahead announce them. It should leave out what the walk leaves out (excluded directories):
   * a listing read ahead for nothing costs a scan and a place until the walk has gone past it.
   */
  readonly descend?: (entry: FsEntry) => boolean;
}

const MAX_ANNOUNCED = 4096;
const SLASH = 0x2f;

interface Settled {
  readonly listing?: DirectoryListing;
  readonly error?: unknown;
}

interface Started {
  readonly dir: Buffer;
  readonly settled: Promise<Settled>;
  /** Entries of its listing once read (counted in `held` while it waits to be taken). */
  entries: number;
}

export class DirectoryReader {
  private readonly parallel: number;
  private readonly ahead: number;
  /** Announced directories not started yet; the end of the array is the top. */
  private readonly announced: Buffer[] = [];
  /** Copies of each directory on the announced stack (the walk and the reader both announce). */
  private readonly stacked = new Map<string, number>();
  /** Started ahead of time, by path (latin1 keeps every byte), oldest first. */
  private readonly started = new Map<string, Started>();
  /**
   * Listed already (on demand, or taken from `started`) while still on the stack: skipped when
   * they come off it, so that nothing is listed twice.
   */
  private readonly taken = new Set<string>();
  private running = 0;
  private onDemand = 0;
  private readonly aheadEntries: number;
  /** Entries of the finished listings in `started`. */
  private held = 0;

  constructor(private readonly options: DirectoryReaderOptions = {}) {
    this.parallel = Math.max(1, options.parallel ?? 4);
    this.ahead = Math.max(0, options.ahead ?? 256);
    this.aheadEntries = Math.max(0, options.aheadEntries ?? 4096);
  }

  /** The listing of `dir`, read ahead or read now; rejects as listDirectory does. */
  async list(dir: Buffer): Promise<DirectoryListing> {
    if (this.started.size >= this.ahead || this.held >= this.aheadEntries) this.dropPassed(dir);
    const key = dir.toString('latin1');
    if (this.stacked.has(key)) this.taken.add(key);
    const early = this.started.get(key);
    if (early === undefined) {
      this.onDemand++;
      return listDirectory(dir, this.options);
    }
    this.forget(key, early);
    this.pump();
    const settled = await early.settled;
    if (settled.listing === undefined) throw settled.error;
    return settled.listing;
  }

  /** Listings started ahead and not taken yet (running or finished). */
  get readingAhead(): number {
    return this.started.size;
  }

  /** `list` calls that found nothing read ahead and listed there and then. */
  get listedOnDemand(): number {
    return this.onDemand;
  }

  /** Announces directories the walk will list next, in the order it will list them. */
  readAhead(dirs: readonly Buffer[]): void {
    if (this.ahead === 0) return;
    for (let i = dirs.length - 1; i >= 0; i--) {
      const dir = dirs[i]!;
      const key = dir.toString('latin1');
      this.stacked.set(key, (this.stacked.get(key) ?? 0) + 1);
      this.announced.push(dir);
    }
    if (this.announced.length > MAX_ANNOUNCED) {
      const forgotten = this.announced.splice(0, this.announced.length - MAX_ANNOUNCED);
      for (const dir of forgotten) this.unstack(dir.toString('latin1'));
    }
    this.pump();
  }

  /** One copy of `key` left the stack; returns whether it was listed already. */
  private unstack(key: string): boolean {
    const left = (this.stacked.get(key) ?? 1) - 1;
    if (left > 0) {
      this.stacked.set(key, left);
      return this.taken.has(key);
    }
    this.stacked.delete(key);
    return this.taken.delete(key);
  }

  private pump(): void {
    while (
      this.running < this.parallel &&
      this.started.size < this.ahead &&
      this.held < this.aheadEntries &&
      this.announced.length > 0
    ) {
      const dir = this.announced.pop()!;
      const key = dir.toString('latin1');
      if (this.unstack(key) || this.started.has(key)) continue;
      this.running++;
      const early: Started = {
        dir,
        entries: 0,
        settled: listDirectory(dir, this.options)
          .then(
            (listing): Settled => {
              // Still waiting to be taken: it counts against the bound, and what is below it
              // comes next. Taken already, the walk announces its subdirectories itself;
              // dropped, the walk went past everything below it too.
              if (this.started.get(key) === early) {
                early.entries = listing.entries.length + (listing.known?.others.length ?? 0);
                this.held += early.entries;
                this.announceBelow(listing);
              }
              return { listing };
            },
            (error: unknown): Settled => ({ error }),
          )
          .finally(() => {
            this.running--;
            this.pump();
          }),
      };
      this.started.set(key, early);
    }
  }

  /** A listing read ahead announces the subdirectories the walk will enter (see `descend`). */
  private announceBelow(listing: DirectoryListing): void {
    const descend = this.options.descend;
    if (descend === undefined) return;
    const subdirs: Buffer[] = [];
    for (const entry of listing.entries) if (descend(entry)) subdirs.push(entry.path);
    if (subdirs.length > 0) this.readAhead(subdirs);
  }

  /**
   * Drops the listings read ahead that a depth-first walk now at `current` has gone past: it
   * visits paths in walk order (walkOrder), so one that sorts before `current` and was not taken
   * is one it did not enter (excluded after all, or gone). Called when the bounds are reached.
   */
  private dropPassed(current: Buffer): void {
    for (const [key, early] of this.started)
      if (walkOrder(early.dir, current) < 0) this.forget(key, early);
  }

  private forget(key: string, early: Started): void {
    this.started.delete(key);
    this.held -= early.entries;
  }
}

/**
 * The order in which a depth-first walk that takes each directory's entries by name bytes visits
 * paths: by components, each compared as bytes, a directory before what is below it. That is
 * byte order with the separator below every other byte ("a/b" before "a-b").
 */
export function walkOrder(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x === SLASH) return -1;
    if (y === SLASH) return 1;
    return x - y;
  }
  return a.length - b.length;
}
