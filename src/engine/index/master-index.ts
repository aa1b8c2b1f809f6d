/**
 * The in-memory index of every blob in the repository (repository-format.md §17).
 *
 * Compact by design, because memory is the first scaling wall of deduplicating backup tools. It
 * keeps, per blob, the first 16 bytes of the id and the blob's location (entry-fields.ts) in two
 * tables: entries arrive in a HashedEntries table (O(1) insertion, 36 B plus hash slots and spare
 * capacity per entry) and are compacted into a SortedEntries table (14 B of key and 4–16 B of
 * location, no slots, no spare room; 23–27 B at default sizes). Loading the index compacts once
 * at its end when it holds at least 2^18 entries; a session that adds many blobs compacts again
 * whenever its new entries would make the hash table grow and number at least an eighth of the
 * sorted ones, so rebuilding stays linear overall. Pack ids live in a PackTable (≈ 2.8 B per
 * blob at 13 blobs per pack).
 * Measured (bench/micro/index-memory.mjs, 10 million blobs): see the format spec, §17.
 *
 * Keying by a 128-bit prefix is safe because ids are keyed HMACs: nobody without the key can
 * aim for a collision, and a random one among 10^9 blobs has probability < 2^-68. A lookup that
 * still hit a colliding prefix would fail authentication when the blob is read (the full id is
 * the associated data), never return wrong bytes silently.
 */
import { idToBytes, type BlobId, type PackId } from '../../core/index.js';
import type { BlobType, CompressionCode, IndexRecords, PackEntry } from '../format/index.js';
import {
  encodeWord,
  wordCompression,
  wordRawLength,
  wordType,
  type EntryFields,
  type EntryTable,
} from './entry-fields.js';
import { HashedEntries } from './hashed-entries.js';
import { PackTable } from './pack-table.js';
import { SortedEntries } from './sorted-entries.js';
import { SortedRun } from './sorted-run.js';

/**
 * Below this many entries in the hash table, compacting is not worth its time: the table holds
 * at most ≈ 12 MiB, and rebuilding the sorted table costs more than growing the hash table.
 */
const COMPACT_MIN = 1 << 18;

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
  private sorted = SortedEntries.empty();
  private recent = new HashedEntries();

  get size(): number {
    return this.sorted.count + this.recent.count;
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
   * Makes room for `blobs` more entries in `packs` more packs at once, so that loading a known
   * number of entries neither grows arrays step by step nor leaves spare capacity behind.
   */
  reserve(blobs: number, packs = 0): void {
    this.recent.reserve(blobs);
    this.packs.reserve(packs);
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
    const pack = this.packs.number(packId);
    for (const e of entries) {
      const found = this.insert(idToBytes(e.id), 0, fieldsOf(pack, e));
      if (found && onDuplicate) onDuplicate(e, this.locationAt(...found));
    }
  }

  /**
   * addPack for entries read in place from an index file: no object or id string per entry
   * (only for duplicates, which `onDuplicate` sees as objects).
   */
  addPackRecords(
    packId: PackId,
    records: IndexRecords,
    onDuplicate?: (entry: PackEntry, indexed: BlobLocation) => void,
  ): void {
    const pack = this.packs.number(packId);
    for (let i = 0; i < records.count; i++) {
      const found = this.insert(records.bytes, records.idAt(i), {
        pack,
        offset: records.offset(i),
        length: records.length(i),
        word: encodeWord(records.rawLength(i), records.type(i), records.compression(i)),
      });
      if (found && onDuplicate) onDuplicate(records.entry(i), this.locationAt(...found));
    }
  }

  /** Compacts when the hash table holds enough entries to be worth it; loading calls this. */
  compactIfLarge(): void {
    if (this.recent.count >= COMPACT_MIN) this.compact();
  }

  /**
   * Moves every entry into the sorted table. Additions call it when their hash table would grow
   * past a threshold.
   */
  compact(): void {
    if (this.recent.count === 0) return;
    const run = SortedRun.from(this.recent);
    // The hash table goes before the merge allocates the new sorted table.
    this.recent = new HashedEntries();
    this.sorted = SortedEntries.merge(this.sorted, run);
  }

  /** Points an indexed blob at another location (a verified one, when index files disagree). */
  relocate(id: BlobId, location: BlobLocation): void {
    const key = idToBytes(id);
    const found = this.find(key);
    if (!found) return;
    const [table, i] = found;
    const fields = fieldsOf(this.packs.number(location.packId), location);
    if (table === this.recent) this.recent.set(i, fields);
    else if (!this.sorted.trySet(i, fields)) {
      // Too wide for the sorted table's fields: the rebuild lets the newer entry win.
      this.recent.add(key, 0, fields);
      this.compact();
    }
  }

  has(id: BlobId): boolean {
    return this.find(idToBytes(id)) !== undefined;
  }

  lookup(id: BlobId): BlobLocation | undefined {
    const found = this.find(idToBytes(id));
    return found && this.locationAt(found[0], found[1]);
  }

  /** Approximate bytes of memory held, for the stated budget and tests. */
  memoryBytes(): number {
    return this.sorted.memoryBytes() + this.recent.memoryBytes() + this.packs.memoryBytes();
  }

  /** Before an addition: compacts instead of growing a hash table that is already large. */
  private makeRoom(): void {
    const recent = this.recent;
    if (
      recent.count === recent.capacity &&
      recent.count >= Math.max(COMPACT_MIN, this.sorted.count / 8)
    )
      this.compact();
  }

  /**
   * Adds an entry whose key is at `at` of `key`, unless the key is indexed already: then the
   * existing entry is returned and nothing changes (the first location wins).
   */
  private insert(key: Buffer, at: number, fields: EntryFields): [EntryTable, number] | undefined {
    const found = this.find(key, at);
    if (found) return found;
    this.makeRoom();
    this.recent.add(key, at, fields);
    return undefined;
  }

  private find(key: Buffer, at = 0): [EntryTable, number] | undefined {
    let i = this.sorted.find(key, at);
    if (i >= 0) return [this.sorted, i];
    i = this.recent.find(key, at);
    return i >= 0 ? [this.recent, i] : undefined;
  }

  private locationAt(table: EntryTable, i: number): BlobLocation {
    const word = table.word(i);
    return {
      packId: this.packs.idAt(table.pack(i)),
      offset: table.offset(i),
      length: table.length(i),
      rawLength: wordRawLength(word),
      type: wordType(word),
      compression: wordCompression(word),
    };
  }
}

function fieldsOf(
  pack: number,
  e: Pick<PackEntry, 'offset' | 'length' | 'rawLength' | 'type' | 'compression'>,
): EntryFields {
  return {
    pack,
    offset: e.offset,
    length: e.length,
    word: encodeWord(e.rawLength, e.type, e.compression),
  };
}
