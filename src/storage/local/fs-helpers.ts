/** Small fs helpers for crash-safe writes. */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { errnoCode, throwIfAborted } from '../../core/index.js';
import { bodyPieces, FileBody, type ObjectBody } from '../object-store.js';

/** Buffers per vectored write: Linux's IOV_MAX. */
const IOV_MAX = 1024;
/** Bytes per vectored write, so that an abort is noticed between writes of one pack. */
const WRITE_BYTES = 4 * 1024 * 1024;

/**
 * fsyncs a directory so that a link or unlink in it survives a power loss; without it ext4/xfs may
 * lose the new name even though the file data itself was fsynced.
 */
export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file, ignoring "already gone"; for cleanup paths where the first error matters. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Nothing to do: the caller is already reporting a more useful error, or the file is gone.
  }
}

/** Runs fn, returning undefined instead of throwing when the path does not exist. */
export async function unlessMissing<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Writes `body` from the start of the empty file behind `handle`: one buffer as it is, parts with
 * vectored writes of up to IOV_MAX parts and WRITE_BYTES each (never joined into one buffer),
 * resuming after a short write; a file (FileBody) a piece at a time. An abort is honoured between
 * writes.
 */
export async function writeBody(
  handle: FileHandle,
  body: ObjectBody,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (body instanceof FileBody) {
    let position = 0;
    for await (const piece of bodyPieces(body)) {
      throwIfAborted(signal);
      for (let done = 0; done < piece.byteLength;) {
        const { bytesWritten } = await handle.write(piece, done, piece.byteLength - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    }
    return;
  }
  if (!Array.isArray(body)) return handle.writeFile(body as Uint8Array, { signal });
  const parts = (body as readonly Uint8Array[]).filter((p) => p.byteLength > 0);
  let position = 0;
  let next = 0; // the first part not written completely
  let done = 0; // bytes of parts[next] written
  while (next < parts.length) {
    throwIfAborted(signal);
    const batch: Uint8Array[] = [];
    let bytes = 0;
    for (let i = next; i < parts.length && batch.length < IOV_MAX && bytes < WRITE_BYTES; i++) {
      const part = i === next ? parts[i]!.subarray(done) : parts[i]!;
      const take = Math.min(part.byteLength, WRITE_BYTES - bytes);
      batch.push(take < part.byteLength ? part.subarray(0, take) : part);
      bytes += take;
    }
    let { bytesWritten } = await handle.writev(batch, position);
    if (bytesWritten === 0) throw new Error(`write made no progress at byte ${position}`);
    position += bytesWritten;
    while (bytesWritten > 0) {
      const left = parts[next]!.byteLength - done;
      if (bytesWritten < left) {
        done += bytesWritten;
        break;
      }
      bytesWritten -= left;
      next++;
      done = 0;
    }
  }
}
