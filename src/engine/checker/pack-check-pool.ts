/**
 * PackCheckPool: the packs `check --read-data` checks at once. Each pack in flight has a native
 * PackChecker (pack-check.ts) and a window buffer of its own, so `capacity` packs are hashed and
 * verified in parallel on the checkers' threads while the main thread fetches packs (or, from a
 * local repository, reads their files a window at a time) and walks the trees.
 *
 * Two packs per core it is given (`size`, from --threads): while one pack's window is being
 * verified, the other's is being read, so no core waits for input. What the pool holds is `capacity` × (a window, the largest blob
 * met so far, opened, and a 256 KiB piece of plaintext), plus what the caller fetched.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { describeError, HoldfastError, throwIfAborted, type PackId } from '../../core/index.js';
import { IndexRecords, type BlobKeys } from '../format/index.js';
import {
  CHECK_WINDOW,
  checkPack,
  checkPackFrom,
  PackChecker,
  type PackCheckOutcome,
  type PackReader,
} from './pack-check.js';

/** Packs in flight per core given: one being verified, one being read. */
export const QUEUED = 2;

/** A pack's outcome, or why its file could not be read. */
export type PackResult = { readonly outcome: PackCheckOutcome } | { readonly unreadable: string };

export interface PackCheckPoolOptions {
  readonly keys: BlobKeys;
  /** Cores to keep busy (at least 1): `--threads`, by default one per core (workerThreads). */
  readonly size: number;
  readonly signal?: AbortSignal;
}

/** A checker and the window buffer a pack's file is read into, reused pack after pack. */
interface Slot {
  readonly checker: PackChecker;
  window: Buffer | undefined;
}

/** Pack checkers made by every pool of this process: what tests check the --threads bound with. */
let checkersMade = 0;

export function packCheckersMade(): number {
  return checkersMade;
}

/** The pack's file could not be opened or read: the pack is unreadable, not damaged. */
class FileUnreadable extends Error {}

export class PackCheckPool {
  private readonly free: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  /** Every checker made, closed with the pool. */
  private readonly checkers: PackChecker[] = [];
  private closed = false;

  constructor(private readonly options: PackCheckPoolOptions) {}

  /** Packs the pool checks at once (what a caller's fetch concurrency should match). */
  get capacity(): number {
    return Math.max(1, this.options.size) * QUEUED;
  }

  /**
   * Checks pack `pack` against `lists` (what the index files list in it), given as its `bytes`
   * or its `file`; waits for room first. Rejects on an interruption or a failure of the native
   * task (a bug), never for a damaged or unreadable pack.
   */
  async check(
    pack: PackId,
    lists: readonly IndexRecords[],
    source: { readonly file: string } | { readonly bytes: Uint8Array },
  ): Promise<PackResult> {
    const slot = await this.take();
    try {
      const records = lists.length === 1 ? lists[0]! : IndexRecords.join(lists);
      if ('bytes' in source) {
        const bytes = Buffer.from(
          source.bytes.buffer,
          source.bytes.byteOffset,
          source.bytes.length,
        );
        return { outcome: await checkPack(slot.checker, pack, bytes, records) };
      }
      return await this.checkFile(slot, pack, records, source.file);
    } finally {
      this.give(slot);
    }
  }

  /**
   * Closes the checkers (their threads stop; one still checking a window stops after it). Call
   * once, at the end.
   */
  close(): Promise<void> {
    this.closed = true;
    this.free.length = 0;
    for (const checker of this.checkers) checker.close();
    for (const wake of this.waiting.splice(0)) wake();
    return Promise.resolve();
  }

  /** Checks the pack in `file`, read a window at a time into the slot's buffer. */
  private async checkFile(
    slot: Slot,
    pack: PackId,
    records: IndexRecords,
    file: string,
  ): Promise<PackResult> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      return { unreadable: describeError(err) };
    }
    const { signal } = this.options;
    try {
      const { size } = await readingFile(() => handle.stat());
      const read: PackReader = async (offset, length) => {
        throwIfAborted(signal);
        if (slot.window === undefined || slot.window.length < length)
          slot.window = Buffer.allocUnsafeSlow(Math.max(CHECK_WINDOW, length));
        const window = slot.window;
        let done = 0;
        while (done < length) {
          const { bytesRead } = await readingFile(() =>
            handle.read(window, done, length - done, offset + done),
          );
          if (bytesRead === 0) break; // shorter than it was a moment ago: what was read is checked
          done += bytesRead;
        }
        return window.subarray(0, done);
      };
      return { outcome: await checkPackFrom(slot.checker, pack, size, read, records) };
    } catch (err) {
      if (!(err instanceof FileUnreadable)) throw err;
      return { unreadable: err.message };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** A free slot, made while fewer than `capacity` exist, else waited for. */
  private async take(): Promise<Slot> {
    for (;;) {
      throwIfAborted(this.options.signal);
      // After close a task would wait for a slot nobody gives back.
      if (this.closed) throw new HoldfastError('FAILURE', 'the pack check pool is closed');
      const slot = this.free.pop();
      if (slot !== undefined) return slot;
      if (this.checkers.length < this.capacity) {
        const checker = new PackChecker(this.options.keys);
        this.checkers.push(checker);
        checkersMade++;
        return { checker, window: undefined };
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private give(slot: Slot): void {
    // A window grown for one large blob is not kept for every later pack.
    if (slot.window !== undefined && slot.window.length > CHECK_WINDOW) slot.window = undefined;
    if (!this.closed) this.free.push(slot);
    this.waiting.shift()?.();
  }
}

/** Runs a call on the pack's file; its system error makes the pack unreadable (FileUnreadable). */
async function readingFile<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new FileUnreadable(describeError(err));
  }
}
