/**
 * What the archiver and its native file sealers (native/file_seal.c) say to each other, and the
 * one place their binary encodings are written and read. A job names a batch of files (and
 * streams' chunk lists); the sealer answers with a sequence of reports, the last of a job with
 * `done`. Sealed blobs stay where the sealer sealed them, in its slabs: a report names each
 * blob's slab, offset and length, and the main thread reads it in place.
 *
 * Encodings are little-endian (the host order: file_seal.c copies the numbers as they are).
 *
 * A job's tasks, back to back:
 *   file:   u8 0, u32 path length, path bytes, f64 size, f64 mtime seconds, u32 mtime
 *           nanoseconds (the walk's), u32 stored count, that many 32-byte ids (FileTask.stored)
 *   chunks: u8 1, u32 count, per chunk its 32-byte id and the u32 index of its bytes in the
 *           job's chunk list
 * A report: u32 kind (0: blobs, 1: failure; then the message in UTF-8), u32 job, u32 done,
 *   u32 0, f64 credit, f64 bytes read, u32 counts of slabs begun, blobs, slabs retired and
 *   files; then the begun slabs' u32 ids; per blob its 32-byte id and u32 slab, offset, length,
 *   raw length, compressed (0/1); the retired slabs' u32 ids; per file u32 index in the job,
 *   u32 content count, f64 bytes read, u32 errno (0: none), u32 system call (1 open, 2 read,
 *   3 fstat, 4 close), u32 changed while read (0/1), then its content's 32-byte ids.
 */
import { getSystemErrorMap } from 'node:util';
import type { BlobId } from '../../../core/index.js';

export interface FileTask {
  /** The file's path, its raw bytes. */
  readonly path: Buffer;
  /** lstat size and mtime from the walk: a difference after reading means the file changed. */
  readonly size: number;
  readonly mtimeNs: bigint;
  /**
   * Ids of the file's content in the parent snapshot that the repository holds (a file of more
   * than one blob that changed): a chunk with one of these ids is not compressed and sealed
   * again, only named — as BlobWriter would drop it anyway. A large file changed in place (a
   * database, a disk image) is then read and hashed, not recompressed.
   */
  readonly stored?: readonly BlobId[];
}

/**
 * Chunks of a stream that the main thread cut and named (stream-saver.ts), for a sealer to
 * compress and seal in place. Reported like a file whose content they are.
 */
export interface SealTask {
  readonly chunks: readonly { readonly id: BlobId; readonly data: Uint8Array }[];
}

/** One blob the sealer sealed: `length` bytes from `offset` in slab `slab`. */
export interface SealedBlobRef {
  readonly id: BlobId;
  readonly slab: number;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
  readonly compressed: boolean;
}

export interface FileOutcome {
  /** Index of the file in its job. */
  readonly file: number;
  /** Blob ids of the content in order; empty when `error` is set. */
  readonly content: BlobId[];
  readonly bytes: number;
  readonly changedWhileReading: boolean;
  /** A system error reading the file: its errno and the call that failed. */
  readonly error?: { readonly errno: number; readonly syscall: string };
}

/** A slab's id and its memory. */
export interface NewSlab {
  readonly id: number;
  readonly memory: ArrayBuffer;
}

/**
 * Blobs are listed before the outcomes of the files they belong to, in file order, so the main
 * thread saves a file's blobs before it learns the file is complete.
 */
export interface JobReport {
  readonly kind: 'report';
  readonly job: number;
  /** Slabs the sealer started sealing into since its last report (new ones, or freed ones again). */
  readonly slabs: readonly NewSlab[];
  readonly blobs: readonly SealedBlobRef[];
  /** Slabs the sealer moved on from since its last report (after sealing these blobs). */
  readonly retired: readonly number[];
  /** Sealed bytes this report holds: the credit it consumed. */
  readonly credit: number;
  /** File bytes read since the previous report (progress). */
  readonly bytesRead: number;
  readonly files: readonly FileOutcome[];
  readonly done: boolean;
}

/** An unexpected failure in the sealer (out of memory, OpenSSL): the backup fails. */
export interface SealerFailure {
  readonly kind: 'failure';
  readonly message: string;
}

export type SealerMessage = JobReport | SealerFailure;

const SYSCALLS = ['', 'open', 'read', 'fstat', 'close'];
const HEADER_BYTES = 48;
const BLOB_BYTES = 52;
const FILE_BYTES = 28;
const NS_PER_SECOND = 1_000_000_000n;

/** A job's tasks as file_seal.c reads them, and the chunk views they index. */
export function encodeJob(tasks: readonly (FileTask | SealTask)[]): {
  tasks: Buffer;
  chunks: Uint8Array[];
} {
  let size = 0;
  for (const t of tasks)
    size +=
      'chunks' in t ? 5 + 36 * t.chunks.length : 29 + t.path.length + 32 * (t.stored?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const t of tasks) {
    if ('chunks' in t) {
      at = out.writeUInt8(1, at);
      at = out.writeUInt32LE(t.chunks.length, at);
      for (const c of t.chunks) {
        at += out.write(c.id, at, 32, 'hex');
        at = out.writeUInt32LE(chunks.push(c.data) - 1, at);
      }
      continue;
    }
    // Floor division: an mtime before 1970 has a negative second and a positive nanosecond.
    let seconds = t.mtimeNs / NS_PER_SECOND;
    let nanos = t.mtimeNs % NS_PER_SECOND;
    if (nanos < 0n) {
      seconds -= 1n;
      nanos += NS_PER_SECOND;
    }
    at = out.writeUInt8(0, at);
    at = out.writeUInt32LE(t.path.length, at);
    at += t.path.copy(out, at);
    at = out.writeDoubleLE(t.size, at);
    at = out.writeDoubleLE(Number(seconds), at);
    at = out.writeUInt32LE(Number(nanos), at);
    at = out.writeUInt32LE(t.stored?.length ?? 0, at);
    for (const id of t.stored ?? []) at += out.write(id, at, 32, 'hex');
  }
  return { tasks: out, chunks };
}

/** A report as file_seal.c posts it, with the ArrayBuffers of the slabs it begins, in order. */
export function decodeReport(report: Buffer, slabs: readonly ArrayBuffer[]): SealerMessage {
  if (report.readUInt32LE(0) === 1) return { kind: 'failure', message: report.toString('utf8', 4) };
  const counts = [32, 36, 40, 44].map((at) => report.readUInt32LE(at));
  const [begunCount, blobCount, retiredCount, fileCount] = counts as [
    number,
    number,
    number,
    number,
  ];
  let at = HEADER_BYTES;
  const begun: NewSlab[] = [];
  for (let i = 0; i < begunCount; i++, at += 4)
    begun.push({ id: report.readUInt32LE(at), memory: slabs[i]! });
  const blobs: SealedBlobRef[] = [];
  for (let i = 0; i < blobCount; i++, at += BLOB_BYTES) {
    blobs.push({
      id: report.toString('hex', at, at + 32) as BlobId,
      slab: report.readUInt32LE(at + 32),
      offset: report.readUInt32LE(at + 36),
      length: report.readUInt32LE(at + 40),
      rawLength: report.readUInt32LE(at + 44),
      compressed: report.readUInt32LE(at + 48) === 1,
    });
  }
  const retired: number[] = [];
  for (let i = 0; i < retiredCount; i++, at += 4) retired.push(report.readUInt32LE(at));
  const files: FileOutcome[] = [];
  for (let i = 0; i < fileCount; i++) {
    const ids = report.readUInt32LE(at + 4);
    const errno = report.readUInt32LE(at + 16);
    const content: BlobId[] = [];
    for (let k = 0, from = at + FILE_BYTES; k < ids; k++, from += 32)
      content.push(report.toString('hex', from, from + 32) as BlobId);
    files.push({
      file: report.readUInt32LE(at),
      content,
      bytes: report.readDoubleLE(at + 8),
      changedWhileReading: report.readUInt32LE(at + 24) === 1,
      ...(errno !== 0 && {
        error: { errno, syscall: SYSCALLS[report.readUInt32LE(at + 20)] ?? 'read' },
      }),
    });
    at += FILE_BYTES + 32 * ids;
  }
  return {
    kind: 'report',
    job: report.readUInt32LE(4),
    slabs: begun,
    blobs,
    retired,
    credit: report.readDoubleLE(16),
    bytesRead: report.readDoubleLE(24),
    files,
    done: report.readUInt32LE(8) === 1,
  };
}

/**
 * A file's system error as node:fs would throw it (code, errno, syscall, path and message), so
 * the archiver reports it as it reports any other read error.
 */
export function systemError(errno: number, syscall: string, path: Buffer): NodeJS.ErrnoException {
  const [code, description] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, 'system error'];
  const shown = path.toString();
  return Object.assign(new Error(`${code}: ${description}, ${syscall} '${shown}'`), {
    code,
    errno: -errno,
    syscall,
    path: shown,
  });
}
