/**
 * Descriptor-level file calls for the restorer, on Node's callback API: a restore of many small
 * files makes several calls per file, and the promise API's FileHandle objects (one per open,
 * tracked until closed) cost more CPU than the system calls themselves.
 */
import { close, constants, ftruncate, open, write, writeSync } from 'node:fs';

// Created for writing only; truncated so that a sparse file's skipped blocks read as zero.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;

/** Creates (or truncates) `path` for writing; new files get mode 0600 until metadata is applied. */
export function createFile(path: Buffer): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, CREATE_FLAGS, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

// Up to this size a write is made synchronously: it lands in the page cache in microseconds,
// less than handing it to the thread pool and back costs (most files of a tree are this small).
const SYNC_WRITE_MAX = 64 * 1024;

/** Writes all of `data` at `position`, continuing after short writes. */
export async function writeAt(fd: number, data: Buffer, position: number): Promise<void> {
  if (data.length <= SYNC_WRITE_MAX) {
    for (let done = 0; done < data.length;)
      done += writeSync(fd, data, done, data.length - done, position + done);
    return;
  }
  for (let done = 0; done < data.length;) {
    done += await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.length - done, position + done, (err, n) =>
        err ? reject(err) : resolve(n),
      ),
    );
  }
}

export function truncateFd(fd: number, size: number): Promise<void> {
  return new Promise((resolve, reject) =>
    ftruncate(fd, size, (err) => (err ? reject(err) : resolve())),
  );
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
}
