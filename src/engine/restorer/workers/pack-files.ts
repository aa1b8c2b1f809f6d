/**
 * PackFiles: a restore worker's own reads of pack ranges from a local repository (ObjectStore
 * `files`). A read is one synchronous pread into a buffer the worker reuses, so a range costs no
 * allocation, no thread-pool hop and no transfer; the few packs a batch reads from stay open
 * (packs are write-once, so an open descriptor never sees a change).
 *
 * Memory: one buffer as large as the largest range read so far (≤ MAX_RANGE, or one larger
 * blob), per worker.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Pack descriptors kept open per worker; a batch reads from a handful of packs at a time. */
export const OPEN_PACKS = 16;
const MIN_BUFFER = 1024 * 1024;

export class PackFiles {
  /** Open descriptors by path, least recently used first. */
  private readonly open = new Map<string, number>();
  private buffer = Buffer.allocUnsafeSlow(0);

  /**
   * `length` bytes at `offset` of the file at `path`: a view of the reused buffer, valid until
   * the next read. Throws the system error, or a plain Error when the file is shorter.
   */
  read(path: string, offset: number, length: number): Buffer {
    if (this.buffer.length < length)
      this.buffer = Buffer.allocUnsafeSlow(Math.max(length, MIN_BUFFER));
    const fd = this.descriptor(path);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, this.buffer, done, length - done, offset + done);
      if (n === 0) throw new Error(`${path}: ends before byte ${offset + length}`);
      done += n;
    }
    return this.buffer.subarray(0, length);
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
