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
 */
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
}

const MAX_ANNOUNCED = 4096;

interface Settled {
  readonly listing?: DirectoryListing;
  readonly error?: unknown;
}

export class DirectoryReader {
  private readonly parallel: number;
  private readonly ahead: number;
  /** Announced directories not started yet; the end of the array is the top. */
  private readonly announced: Buffer[] = [];
  /** Started ahead of time, by path (latin1 keeps every byte). */
  private readonly started = new Map<string, Promise<Settled>>();
  /** Listed on demand before the read-ahead reached them: skipped when they come off the stack. */
  private readonly taken = new Set<string>();
  private running = 0;

  constructor(private readonly options: DirectoryReaderOptions = {}) {
    this.parallel = Math.max(1, options.parallel ?? 4);
    this.ahead = Math.max(0, options.ahead ?? 64);
  }

  /** The listing of `dir`, read ahead or read now; rejects as listDirectory does. */
  async list(dir: Buffer): Promise<DirectoryListing> {
    const key = dir.toString('latin1');
    const early = this.started.get(key);
    if (early === undefined) {
      if (this.ahead > 0) this.taken.add(key);
      return listDirectory(dir, this.options);
    }
    this.started.delete(key);
    this.pump();
    const settled = await early;
    if (settled.listing === undefined) throw settled.error;
    return settled.listing;
  }

  /** Listings started ahead and not taken yet (running or finished). */
  get readingAhead(): number {
    return this.started.size;
  }

  /** Announces directories the walk will list next, in the order it will list them. */
  readAhead(dirs: readonly Buffer[]): void {
    if (this.ahead === 0) return;
    for (let i = dirs.length - 1; i >= 0; i--) this.announced.push(dirs[i]!);
    if (this.announced.length > MAX_ANNOUNCED) {
      const forgotten = this.announced.splice(0, this.announced.length - MAX_ANNOUNCED);
      for (const dir of forgotten) this.taken.delete(dir.toString('latin1'));
    }
    this.pump();
  }

  private pump(): void {
    while (
      this.running < this.parallel &&
      this.started.size < this.ahead &&
      this.announced.length > 0
    ) {
      const dir = this.announced.pop()!;
      const key = dir.toString('latin1');
      if (this.taken.delete(key) || this.started.has(key)) continue;
      this.running++;
      const settled = listDirectory(dir, this.options).then(
        (listing): Settled => ({ listing }),
        (error: unknown): Settled => ({ error }),
      );
      this.started.set(
        key,
        settled.finally(() => {
          this.running--;
          this.pump();
        }),
      );
    }
  }
}
