/**
 * OpenFiles: descriptors of object files kept open between ranged reads, so that reading many
 * small ranges of the same few packs (the trees a restore or check walks) costs one thread-pool
 * hop per read instead of an open, a read and a close. Objects are write-once and named by their
 * content's hash, so a descriptor never sees other bytes than the name promises; a file deleted
 * meanwhile stays readable through it until it is closed (`forget` closes it at once when unused).
 *
 * At most `limit` descriptors stay open while unused; one in use is never closed under its
 * reader (that could hand its number to another file mid-read), so more may be open briefly.
 * Descriptors unused for IDLE_MS are closed by a timer that does not keep the process alive, so
 * a store nobody closes (a command run in-process, then dropped) does not keep files open.
 */
import { close, open, read } from 'node:fs';

/** A descriptor unused this long is closed (default). */
export const IDLE_MS = 2000;

interface Entry {
  readonly fd: Promise<number>;
  users: number;
  /** Date.now() when its last reader finished. */
  lastUsed: number;
  /** Out of the map: closed by its last reader. */
  retired?: boolean;
}

export class OpenFiles {
  /** Least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limit: number,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Runs `fn` with a descriptor of `path` opened read-only; open errors reject as they are. */
  async use<T>(path: string, fn: (fd: number) => Promise<T>): Promise<T> {
    let entry = this.entries.get(path);
    if (entry !== undefined) this.entries.delete(path);
    else {
      const fd = new Promise<number>((resolve, reject) =>
        open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))),
      );
      entry = { fd, users: 0, lastUsed: 0 };
      // A failed open is not kept: the next reader tries again.
      const failed = entry;
      fd.catch(() => {
        if (this.entries.get(path) === failed) this.entries.delete(path);
      });
    }
    this.entries.set(path, entry);
    entry.users++;
    try {
      return await fn(await entry.fd);
    } finally {
      entry.users--;
      entry.lastUsed = Date.now();
      if (entry.retired === true) closeWhenUnused(entry);
      else this.trim();
      this.sweepLater();
    }
  }

  /** Closes the descriptor of `path` (its object was deleted), now or when its reads end. */
  forget(path: string): void {
    const entry = this.entries.get(path);
    if (entry === undefined) return;
    this.entries.delete(path);
    closeWhenUnused(entry);
  }

  /** Closes every descriptor (the store is closed; no read is running). */
  closeAll(): void {
    for (const entry of this.entries.values()) closeWhenUnused(entry);
    this.entries.clear();
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
  }

  /** Open descriptors, in use or not (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private sweepLater(): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      const idleSince = Date.now() - this.idleMs;
      for (const [path, entry] of this.entries) {
        if (entry.users > 0 || entry.lastUsed > idleSince) continue;
        this.entries.delete(path);
        closeWhenUnused(entry);
      }
      if (this.entries.size > 0) this.sweepLater();
    }, this.idleMs);
    this.sweeper.unref();
  }

  private trim(): void {
    if (this.entries.size <= this.limit) return;
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= this.limit) break;
      if (entry.users > 0) continue;
      this.entries.delete(path);
      closeWhenUnused(entry);
    }
  }
}

/** `length` bytes at `position` into `buffer` at `offset`; resolves with the count read. */
export function readAt(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** Takes `entry` out of service: closed now, or by its last reader (see `use`). */
function closeWhenUnused(entry: Entry): void {
  entry.retired = true;
  if (entry.users === 0) closeQuietly(entry);
}

function closeQuietly(entry: Entry): void {
  // Read-only descriptors: closing cannot lose data, and a failed open has nothing to close.
  entry.fd.then(
    (fd) => close(fd, () => undefined),
    () => undefined,
  );
}
