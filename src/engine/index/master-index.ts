/**
 * The in-memory index of every blob in the repository (repository-format.md, "Memory").
 *
 * Compact by design, because memory is the first scaling wall of deduplicating backup tools:
 * per blob it keeps the first 16 bytes of the id and four 32-bit words (pack number, offset,
 * sealed length, raw length with type and compression in the top bits) = 32 B, plus a 4-byte
 * open-addressing slot at load factor between 0.375 and 0.75 (5.3–10.7 B). Loading reserves the
 * exact number of entries; later additions grow the arrays by 1.5×, so spare capacity adds up to
 * 16 B per blob right after a growth step. Pack ids live in a PackTable (≈3 B per blob).
 * Measured (bench/micro/index-memory.mjs, 10 million blobs): 42.6 B per blob as loaded, 47.4 B
 * grown pack by pack; bound for the entries: 59 B.
 *
 * Keying by a 128-bit prefix is safe because ids are keyed HMACs: nobody without the key can
 * aim for a collision, and a random one among 10^9 blobs has probability < 2^-68. A lookup that
 * still hit a colliding prefix would fail authentication when the blob is read (the full id is
 * the associated data), never return wrong bytes silently.
 */
import { idToBytes, type BlobId, type PackId } from '../../core/index.js';
import type { BlobType, CompressionCode, PackEntry } from '../format/index.js';
import { PackTable } from './pack-table.js';

const PREFIX = 16;
const WORDS = 4;
const TYPE_BIT = 0x80000000;
const ZSTD_BIT = 0x40000000;
const RAW_MASK = 0x3fffffff;

export interface BlobLocation {
  readonly packId: PackId;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
  readonly compression: CompressionCode;
}

export class MasterIndex {
  private readonly packs = new PackTable();
  private ids = Buffer.alloc(0);
  private meta = new Uint32Array(0);
  private slots = new Uint32Array(16);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get packCount(): number {
    return this.packs.size;
  }

  /** Every indexed pack's id (a new array). */
  allPackIds(): PackId[] {
    return this.packs.all();
  }

  hasPack(packId: PackId): boolean {
    return this.packs.has(packId);
  }

  /**
   * Makes room for `blobs` more entries at once, so that loading a known number of entries
   * leaves no spare capacity behind (growing by 1.5× would leave up to a third unused).
   */
  reserve(blobs: number): void {
    const capacity = this.count + blobs;
    if (capacity > this.meta.length / WORDS) this.resizeEntries(capacity);
    let slots = this.slots.length;
    while (capacity * 4 > slots * 3) slots *= 2;
    if (slots !== this.slots.length) this.rehash(slots);
  }

  /**
   * Adds a pack's blobs. A blob already indexed (a duplicate in another pack, or another index
   * file's entry for it) keeps its first location; `onDuplicate` sees each such entry.
   */
  addPack(
    packId: PackId,
    entries: readonly PackEntry[],
    onDuplicate?: (entry: PackEntry, indexed: BlobLocation) => void,
  ): void {
    const pack = this.packNumber(packId);
    for (const e of entries) {
      const i = this.addEntry(pack, e);
      if (i >= 0 && onDuplicate) onDuplicate(e, this.locationAt(i));
    }
  }

  /** Points an indexed blob at another location (a verified one, when index files disagree). */
  relocate(id: BlobId, location: BlobLocation): void {
    const i = this.find(idToBytes(id));
    if (i >= 0) this.setLocation(i, this.packNumber(location.packId), location);
  }

  has(id: BlobId): boolean {
    return this.find(idToBytes(id)) >= 0;
  }

  lookup(id: BlobId): BlobLocation | undefined {
    const i = this.find(idToBytes(id));
    return i < 0 ? undefined : this.locationAt(i);
  }

  private locationAt(i: number): BlobLocation {
    const m = this.meta;
    const w = m[i * WORDS + 3]!;
    return {
      packId: this.packs.idAt(m[i * WORDS]!),
      offset: m[i * WORDS + 1]!,
      length: m[i * WORDS + 2]!,
      rawLength: w & RAW_MASK,
      type: w & TYPE_BIT ? 'tree' : 'data',
      compression: w & ZSTD_BIT ? 1 : 0,
    };
  }

  /** Approximate bytes of memory held, for the stated budget and tests. */
  memoryBytes(): number {
    return (
      this.ids.byteLength + this.meta.byteLength + this.slots.byteLength + this.packs.memoryBytes()
    );
  }

  private packNumber(packId: PackId): number {
    return this.packs.number(packId);
  }

  /** Adds an entry; returns -1, or the index of the entry already holding this id. */
  private addEntry(pack: number, e: PackEntry): number {
    const key = idToBytes(e.id);
    const existing = this.find(key);
    if (existing >= 0) return existing;
    if (this.count === this.meta.length / WORDS) this.growEntries();
    if ((this.count + 1) * 4 > this.slots.length * 3) this.rehash(this.slots.length * 2);
    const i = this.count++;
    key.copy(this.ids, i * PREFIX, 0, PREFIX);
    this.setLocation(i, pack, e);
    this.insertSlot(i);
    return -1;
  }

  private setLocation(
    i: number,
    pack: number,
    e: Pick<PackEntry, 'offset' | 'length' | 'rawLength' | 'type' | 'compression'>,
  ): void {
    const m = this.meta;
    m[i * WORDS] = pack;
    m[i * WORDS + 1] = e.offset;
    m[i * WORDS + 2] = e.length;
    m[i * WORDS + 3] =
      (e.rawLength & RAW_MASK) |
      (e.type === 'tree' ? TYPE_BIT : 0) |
      (e.compression ? ZSTD_BIT : 0);
  }

  private find(key: Buffer): number {
    const mask = this.slots.length - 1;
    let s = key.readUInt32LE(0) & mask;
    for (;;) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      const i = v - 1;
      if (this.prefixEquals(i, key)) return i;
      s = (s + 1) & mask;
    }
  }

  private prefixEquals(i: number, key: Buffer): boolean {
    const ids = this.ids;
    const o = i * PREFIX;
    return (
      ids.readUInt32LE(o) === key.readUInt32LE(0) &&
      ids.readUInt32LE(o + 4) === key.readUInt32LE(4) &&
      ids.readUInt32LE(o + 8) === key.readUInt32LE(8) &&
      ids.readUInt32LE(o + 12) === key.readUInt32LE(12)
    );
  }

  private insertSlot(i: number): void {
    const mask = this.slots.length - 1;
    let s = this.ids.readUInt32LE(i * PREFIX) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = i + 1;
  }

  private growEntries(): void {
    this.resizeEntries(Math.max(1024, Math.ceil((this.meta.length / WORDS) * 1.5)));
  }

  private resizeEntries(capacity: number): void {
    const ids = Buffer.alloc(capacity * PREFIX);
    this.ids.copy(ids);
    const meta = new Uint32Array(capacity * WORDS);
    meta.set(this.meta);
    this.ids = ids;
    this.meta = meta;
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size);
    for (let i = 0; i < this.count; i++) this.insertSlot(i);
  }
}
