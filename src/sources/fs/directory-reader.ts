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
 * first child is read first. Bounds: at most `parallel` jobs at once and at most `ahead`
 * listings running or finished but not yet taken (so memory holds a bounded number of
 * listings); announcements beyond what can be read are simply listed on demand later, and the
 * stack forgets the oldest ones past a few thousand.
 *
 * Told which subdirectories the walk descends into (`descend`), the reader also announces on its
 * own: each listing it reads ahead announces its subdirectories as soon as it is read. Without
 * that, the first subdirectory of every directory is announced only when the walk lists its
 * parent, right before the walk needs it, and the walk waits for it (measured on the kernel
 * tree: 2,000 of 5,100 listings were read on demand, 1,400 more were still running when taken).
 * A walk and the reader may then announce one directory twice; it is listed once.
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
  /** Listings read ahead and not yet taken, at most (default 64). */
  readonly ahead?: number;
  /**
   * The subdirectories the walk will list, of an entry of a listing: when given, listings read
   * ahead announce them. It must leave out what the walk leaves out (excluded directories);
   * a listing read ahead for nothing is dropped after a while, but takes a place until then.
   */
  readonly descend?: (entry: FsEntry) => boolean;
}

const MAX_ANNOUNCED = 4096;
/**
 * A listing read ahead that the walk has not taken after this many `list` calls (× `ahead`) is
 * dropped: the walk went past it (a directory it did not descend into after all).
 */
const STALE_AFTER = 4;

interface Settled {
  readonly listing?: DirectoryListing;
  readonly error?: unknown;
}

interface Started {
  readonly settled: Promise<Settled>;
  /** `lists` when it started. */
  readonly at: number;
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
  /** `list` calls so far: the age of listings read ahead. */
  private lists = 0;
  private onDemand = 0;

  constructor(private readonly options: DirectoryReaderOptions = {}) {
    this.parallel = Math.max(1, options.parallel ?? 4);
    this.ahead = Math.max(0, options.ahead ?? 64);
  }

  /** The listing of `dir`, read ahead or read now; rejects as listDirectory does. */
  async list(dir: Buffer): Promise<DirectoryListing> {
    this.lists++;
    const key = dir.toString('latin1');
    if (this.stacked.has(key)) this.taken.add(key);
    const early = this.started.get(key);
    if (early === undefined) {
      this.onDemand++;
      return listDirectory(dir, this.options);
    }
    this.started.delete(key);
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
    this.dropStale();
    while (
      this.running < this.parallel &&
      this.started.size < this.ahead &&
      this.announced.length > 0
    ) {
      const dir = this.announced.pop()!;
      const key = dir.toString('latin1');
      if (this.unstack(key) || this.started.has(key)) continue;
      this.running++;
      const settled = listDirectory(dir, this.options).then(
        (listing): Settled => {
          this.announceBelow(listing);
          return { listing };
        },
        (error: unknown): Settled => ({ error }),
      );
      this.started.set(key, {
        settled: settled.finally(() => {
          this.running--;
          this.pump();
        }),
        at: this.lists,
      });
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

  /** Drops the oldest listings read ahead that the walk has gone past, when they hold it up. */
  private dropStale(): void {
    if (this.started.size < this.ahead) return;
    for (const [key, early] of this.started) {
      if (this.lists - early.at <= STALE_AFTER * this.ahead) return;
      this.started.delete(key);
    }
  }
}
