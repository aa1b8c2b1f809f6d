/**
 * LinkGroups: for each hardlink group met during a restore (a node with links > 1, keyed by its
 * device and inode), the first path restored and whether that path was restored completely, so
 * that the group's later paths can be linked to it once it is (Restorer.restoreLeaf, linkAll).
 *
 * An entry lives for the whole restore, one per group, so entries are packed: the key is one
 * bigint, the path's bytes are copied into shared 64 KiB chunks and found by offsets in typed
 * arrays, and "restored" is one byte: the path's bytes plus ≈ 86 (measured for 200,000 groups).
 * As an object with a string key and the path's Buffer, an entry took ≈ 250 bytes besides the
 * path, which was a slice of a shared pool and kept the pool alive: restoring 200,000 files that
 * each had a second link outside the snapshot, the main heap held ≈ 50 MiB of them by the end
 * (peak 219–221 → 154–157 MiB).
 */
import type { Node } from '../format/index.js';

const CHUNK_BYTES = 64 * 1024;

type Linked = Pick<Node, 'deviceId' | 'inode'>;

export class LinkGroups {
  /** Group number by key (device id in the high 64 bits, inode in the low). */
  private readonly numbers = new Map<bigint, number>();
  private readonly chunks: Buffer[] = [];
  /** Bytes used of the last chunk. */
  private used = 0;
  /** Per group: its path's chunk, offset and length, and whether it was restored. */
  private chunkOf: Uint32Array<ArrayBuffer> = new Uint32Array(256);
  private offsetOf: Uint32Array<ArrayBuffer> = new Uint32Array(256);
  private lengthOf: Uint32Array<ArrayBuffer> = new Uint32Array(256);
  private restoredFlags = new Uint8Array(256);

  get size(): number {
    return this.numbers.size;
  }

  has(node: Linked): boolean {
    return this.numbers.has(keyOf(node));
  }

  /** Records `path` as the first path of `node`'s group (its bytes are copied). */
  add(node: Linked, path: Uint8Array): void {
    const key = keyOf(node);
    if (this.numbers.has(key)) return;
    const n = this.numbers.size;
    this.grow(n + 1);
    let chunk = this.chunks.at(-1);
    if (chunk === undefined || this.used + path.length > chunk.length) {
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, path.length));
      this.chunks.push(chunk);
      this.used = 0;
    }
    chunk.set(path, this.used);
    this.chunkOf[n] = this.chunks.length - 1;
    this.offsetOf[n] = this.used;
    this.lengthOf[n] = path.length;
    this.used += path.length;
    this.numbers.set(key, n);
  }

  /** Notes that `path` was restored completely: the group's, if it is its first path. */
  restored(node: Linked, path: Uint8Array): void {
    const n = this.numbers.get(keyOf(node));
    if (n !== undefined && this.pathOf(n).equals(path)) this.restoredFlags[n] = 1;
  }

  /** The first path of `node`'s group, if it was restored completely; else undefined. */
  restoredPath(node: Linked): Buffer | undefined {
    const n = this.numbers.get(keyOf(node));
    return n !== undefined && this.restoredFlags[n] === 1 ? this.pathOf(n) : undefined;
  }

  private pathOf(n: number): Buffer {
    const start = this.offsetOf[n]!;
    return this.chunks[this.chunkOf[n]!]!.subarray(start, start + this.lengthOf[n]!);
  }

  private grow(count: number): void {
    if (count <= this.chunkOf.length) return;
    const size = this.chunkOf.length * 2;
    this.chunkOf = widen(this.chunkOf, size);
    this.offsetOf = widen(this.offsetOf, size);
    this.lengthOf = widen(this.lengthOf, size);
    const flags = new Uint8Array(size);
    flags.set(this.restoredFlags);
    this.restoredFlags = flags;
  }
}

function keyOf(node: Linked): bigint {
  return (node.deviceId << 64n) | node.inode;
}

function widen(a: Uint32Array, size: number): Uint32Array<ArrayBuffer> {
  const wider = new Uint32Array(size);
  wider.set(a);
  return wider;
}
