/**
 * PackFiles: a restore worker's own reads of pack ranges from a local repository (ObjectStore
 * `files`). A read is one synchronous pread into a buffer the worker reuses, so a range costs no
 * allocation, no thread-pool hop and no transfer; the few packs a batch reads from stay open
 * (packs are write-once, so an open descriptor never sees a change).
 *
 * Memory: one buffer at least as large as the most a range has needed so far, per worker. Only
 * the parts of a range that hold wanted blobs are read (segments), one after the other: packs
 * shuffle blob order, so a range's wanted parts are a fraction of its span (≤ LOCAL_RANGE, or one
 * larger blob).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { MAX_RANGE } from '../pack-reader.js';

/** Pack descriptors kept open per worker; a batch reads from a handful of packs at a time. */
export const OPEN_PACKS = 16;
const MIN_BUFFER = 1024 * 1024;
/**
 * The buffer at least doubles when it grows, up to the largest range: grown to each new largest
 * read instead, a 1 GiB file's restore made seven buffers of 1 to 10 MiB per worker, each one
 * left to the worker's collector, which let them pile up (≈ 49 MiB in one worker).
 */
const GROW_UP_TO = MAX_RANGE;

export class PackFiles {
  /** Open descriptors by path, least recently used first. */
  private readonly open = new Map<string, number>();
  private buffer = Buffer.allocUnsafeSlow(0);

  /**
   * The `segments` (start relative to `offset`, length) of the file at `path`, one after the
   * other in a view of the reused buffer (pack-reader `packedStarts` says where each blob lands):
   * valid until the next read. Throws the system error, or a plain Error when the file ends
   * before a segment does.
   */
  read(path: string, offset: number, segments: readonly (readonly [number, number])[]): Buffer {
    const total = segments.reduce((n, [, length]) => n + length, 0);
    if (this.buffer.length < total) {
      const doubled = Math.min(2 * this.buffer.length, GROW_UP_TO);
      this.buffer = Buffer.allocUnsafeSlow(Math.max(total, MIN_BUFFER, doubled));
    }
    const fd = this.descriptor(path);
    let at = 0;
    for (const [start, length] of segments) {
      for (let done = 0; done < length;) {
        const n = readSync(fd, this.buffer, at + done, length - done, offset + start + done);
        if (n === 0) throw new Error(`${path}: ends before byte ${offset + start + length}`);
        done += n;
      }
      at += length;
    }
    return this.buffer.subarray(0, total);
  }

  /**
   * Closes the descriptor of `path`, if open: a spooled copy of a pack, which the main thread
   * removes once no range of it is left, and whose blocks an open descriptor would keep.
   */
  close(path: string): void {
    const fd = this.open.get(path);
    if (fd === undefined) return;
    this.open.delete(path);
    closeQuietly(fd);
  }

  /** Closes every descriptor (the worker stops). */
  closeAll(): void {
    for (const fd of this.open.values()) closeQuietly(fd);
    this.open.clear();
  }

  private descriptor(path: string): number {
    let fd = this.open.get(path);
    if (fd !== undefined) {
      // Most recently used goes last.
      this.open.delete(path);
      this.open.set(path, fd);
      return fd;
    }
    fd = openSync(path, 'r');
    if (this.open.size >= OPEN_PACKS) {
      const [oldest, oldFd] = this.open.entries().next().value as [string, number];
      this.open.delete(oldest);
      closeQuietly(oldFd);
    }
    this.open.set(path, fd);
    return fd;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // A read-only descriptor: closing it cannot lose data.
  }
}
