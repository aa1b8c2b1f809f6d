/**
 * Pack writes that bypass the page cache (`O_DIRECT`).
 *
 * A buffered write copies every byte into the kernel's page cache, and that copy is CPU time on
 * the same cores that chunk, hash and seal: writing a GiB of packs into ext4's page cache cost
 * 0.7–2.2 s of system time on the benchmark machine, against 0.1 s with `O_DIRECT`, where the
 * device reads the process's memory itself. It also spares the page cache: a backup of a large
 * data set no longer evicts what the machine's own services keep cached, only to hold packs
 * nobody reads soon.
 *
 * `O_DIRECT` wants the memory, the file offset and the length aligned to the device's logical
 * block size. JavaScript cannot align an ordinary buffer, but a WebAssembly memory starts on a
 * page boundary, so the parts of a body are copied into page-aligned chunks carved from one (a
 * userspace copy, a tenth of the kernel's), written a chunk at a time with the next chunk filled
 * while the last is written, the tail padded with zeros to ALIGN and cut off again with
 * `ftruncate` before the `fsync`. A pack spooled to disk (FileBody) is read into the chunks
 * straight from its file.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { throwIfAborted } from '../../core/index.js';
import { FileBody, fileBodyError, type ObjectBody } from '../object-store.js';

/** Alignment of memory, offsets and lengths: the largest logical block size in common use. */
export const ALIGN = 4096;
/** Bytes per write; two per body, one filled while the other is written. */
const CHUNK = 1024 * 1024;
/** Bodies written at once (each holds two chunks); more wait, which bounds the memory. */
const SLOTS = 2;
/** Objects smaller than this are written buffered: the padding and the truncate buy nothing. */
export const DIRECT_MIN_BYTES = 1024 * 1024;

/** Flags for opening a new file for direct writes, as `open(path, 'wx')` plus `O_DIRECT`. */
export const DIRECT_OPEN_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT;

/**
 * File systems (statfs `f_type`) where direct writes are used: local disks whose `O_DIRECT` is
 * real and cheap. Elsewhere the flag is refused, ignored or costly (tmpfs keeps the data in the
 * page cache anyway; NFS sends each direct write to the server synchronously; FUSE may refuse it),
 * so writes stay buffered.
 */
const DIRECT_FILE_SYSTEMS = new Set([
  0xef53, // ext2/3/4
  0x58465342, // XFS
]);

/** Whether a file system of statfs type `type` gets direct pack writes. */
export function directWritesSuit(type: number): boolean {
  return DIRECT_FILE_SYSTEMS.has(type);
}

/** WebAssembly's memory, typed here: this project's TypeScript libraries leave out the DOM's. */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): { readonly buffer: ArrayBuffer };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } })
  .WebAssembly.Memory;

/** A body's two chunks of aligned memory. */
type Slot = readonly [Buffer, Buffer];

/** SLOTS pairs of page-aligned CHUNK-sized buffers from one WebAssembly memory, made lazily. */
class AlignedSlots {
  #free: Slot[] | undefined;
  readonly #waiting: ((slot: Slot) => void)[] = [];

  acquire(): Promise<Slot> | Slot {
    this.#free ??= makeSlots();
    const slot = this.#free.pop();
    if (slot) return slot;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(slot: Slot): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(slot);
    else this.#free!.push(slot);
  }
}

function makeSlots(): Slot[] {
  const pageBytes = 64 * 1024; // a WebAssembly page
  const pages = (SLOTS * 2 * CHUNK) / pageBytes;
  const memory = new WasmMemory({ initial: pages, maximum: pages });
  const slots: Slot[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const at = i * 2 * CHUNK;
    slots.push([
      Buffer.from(memory.buffer, at, CHUNK),
      Buffer.from(memory.buffer, at + CHUNK, CHUNK),
    ]);
  }
  return slots;
}

const slots = new AlignedSlots();

/**
 * Writes `body` (of `length` bytes) from the start of the empty file behind `handle`, opened
 * with DIRECT_OPEN_FLAGS, and cuts the file to `length`. An abort is honoured between chunks.
 * Rejects with the file system's EINVAL when it wants a coarser alignment than ALIGN; the file
 * then holds an unknown prefix and the caller starts again without `O_DIRECT`.
 */
export async function writeBodyDirect(
  handle: FileHandle,
  body: ObjectBody,
  length: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const parts: readonly Uint8Array[] =
    body instanceof FileBody
      ? []
      : Array.isArray(body)
        ? (body as readonly Uint8Array[])
        : [body as Uint8Array];
  const slot = await slots.acquire();
  let pending: Promise<void> | undefined;
  try {
    let position = 0; // file offset of the chunk being filled
    let chunk = slot[0];
    let fill = 0;
    const flush = async (bytes: number): Promise<void> => {
      await pending;
      throwIfAborted(signal);
      pending = writeFully(handle, chunk, bytes, position);
      // Awaited at the next flush or below; until then a rejection must not count as unhandled.
      pending.catch(() => undefined);
      position += bytes;
      chunk = chunk === slot[0] ? slot[1] : slot[0];
      fill = 0;
    };
    if (body instanceof FileBody) {
      const source = await open(body.path, 'r').catch((err: unknown) => {
        throw fileBodyError(body, err);
      });
      try {
        for (let at = 0; at < length;) {
          const want = Math.min(CHUNK - fill, length - at);
          const { bytesRead } = await source.read(chunk, fill, want, at).catch((err: unknown) => {
            throw fileBodyError(body, err);
          });
          if (bytesRead === 0) throw fileBodyError(body, `it ends at byte ${at}`);
          fill += bytesRead;
          at += bytesRead;
          if (fill === CHUNK) await flush(CHUNK);
        }
      } finally {
        await source.close();
      }
    }
    for (const part of parts) {
      for (let at = 0; at < part.byteLength;) {
        const take = Math.min(CHUNK - fill, part.byteLength - at);
        chunk.set(take === part.byteLength ? part : part.subarray(at, at + take), fill);
        fill += take;
        at += take;
        if (fill === CHUNK) await flush(CHUNK);
      }
    }
    if (fill > 0) {
      const padded = Math.ceil(fill / ALIGN) * ALIGN;
      chunk.fill(0, fill, padded); // never write what an earlier body left in the chunk
      await flush(padded);
    }
    await pending;
    if (position !== length) await handle.truncate(length);
  } finally {
    // The kernel reads the chunks until their write settles: only then may another body use them.
    await pending?.catch(() => undefined);
    slots.release(slot);
  }
}

/** Writes `bytes` of `chunk` at `position`, resuming after a short write at an aligned offset. */
async function writeFully(
  handle: FileHandle,
  chunk: Buffer,
  bytes: number,
  position: number,
): Promise<void> {
  for (let done = 0; done < bytes;) {
    const { bytesWritten } = await handle.write(chunk, done, bytes - done, position + done);
    if (bytesWritten === 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += bytesWritten;
    if (done < bytes && done % ALIGN !== 0) {
      throw new Error(`direct write stopped at unaligned byte ${position + done}`);
    }
  }
}
