/**
 * BlobWriter: the write path of one session (a backup, a repair). Deduplicates against the
 * index and against blobs pending in this session, compresses, seals, fills packs, uploads them
 * with bounded concurrency, and writes index files — always packs before the index that lists
 * them (repository-format.md, "Ordering"). The snapshot, written by the caller after `flush`,
 * is the commit point.
 */
import { HoldfastError, type BlobId, type IndexId, type PackId } from '../../core/index.js';
import { compressBlobView, type CompressionMode } from '../compression/index.js';
import { fileIdOf } from '../crypto/index.js';
import {
  COMPRESSION_NONE,
  COMPRESSION_ZSTD,
  encodeIndexFile,
  IndexRecords,
  sealBlob,
  type BlobType,
  type PackEntry,
  type RecordedPack,
} from '../format/index.js';
import {
  bodyLength,
  type CachingStore,
  type ObjectBody,
  type ObjectStore,
} from '../../storage/index.js';
import type { MasterIndex } from '../index/index.js';
import type { PackSpool } from '../spool/pack-spool.js';
import { Packer, type PackFilling, type SealedBlobOwner } from './packer.js';
import { SpooledPacker } from './spooled-packer.js';

export type { SealedBlobOwner } from './packer.js';

/** Write an index file after this many packs, so an interrupted backup keeps what it uploaded. */
const PACKS_PER_INDEX = 32;

export interface BlobWriterOptions {
  readonly store: ObjectStore;
  /** Where dedup looks and new packs are registered (the master index, or prune's view of it). */
  readonly index: Pick<MasterIndex, 'has' | 'addPack'>;
  readonly masterKey: Buffer;
  readonly blobId: (type: BlobType, plaintext: Uint8Array) => BlobId;
  readonly packSize: number;
  readonly compression: CompressionMode;
  /** Pack uploads in flight before `save` waits (backpressure). */
  readonly uploadConcurrency?: number;
  readonly signal?: AbortSignal;
  readonly onPackWritten?: (packId: PackId, bytes: number) => void;
  /** Compute everything but write nothing (backup --dry-run). */
  readonly dryRun?: boolean;
  /** The local metadata cache under `store`: told about tree packs so that they are written through. */
  readonly cache?: Pick<CachingStore, 'markTreePack'>;
  /** Where packs uploaded but not yet in an index are noted (repository-format.md §2.5). */
  readonly journal?: PackJournal;
  /**
   * Where data packs are filled and uploaded from (SpooledPacker), so that neither the open
   * pack nor the ones in flight are held in memory. Without it they are (Packer). Tree packs
   * stay in memory: few, and the metadata cache takes them as they are stored.
   */
  readonly spool?: PackSpool;
}

/**
 * A durable note, outside the repository, of the packs a writer has uploaded but not listed in
 * an index yet. If the session fails before its next index (storage gone for longer than the
 * retries last, a crash), a later session indexes those packs from the note instead of
 * uploading their blobs again (pack-journal.ts). Both calls never throw.
 */
export interface PackJournal {
  /** Replaces the note: `bytes` is an index file (§10) of every pack not yet indexed. */
  record(bytes: Buffer): Promise<void>;
  /** Everything noted is in an index now. */
  clear(): Promise<void>;
}

export interface SaveResult {
  readonly id: BlobId;
  /** False when the blob was already in the repository or pending in this session. */
  readonly added: boolean;
  /** Bytes the blob occupies in its pack (0 when not added). */
  readonly storedLength: number;
}

/** A blob hashed, compressed and sealed elsewhere (a file sealer) exactly as `save` does. */
export interface SealedBlob {
  readonly id: BlobId;
  readonly sealed: Buffer;
  /** Plaintext length. */
  readonly rawLength: number;
  readonly compressed: boolean;
  /** Told when the writer no longer holds `sealed`, if it kept it (see SealedBlobOwner). */
  readonly owner?: SealedBlobOwner | undefined;
}

export interface WriterStats {
  dataBlobs: number;
  treeBlobs: number;
  dataAdded: number;
  dataAddedPacked: number;
  packsWritten: number;
  indexesWritten: IndexId[];
}

export class BlobWriter {
  private readonly packers = new Map<BlobType, PackFilling>();
  private readonly pending = new Set<string>();
  private readonly uploads = new Set<Promise<void>>();
  /**
   * Packs stored that no index file lists yet, their entries encoded (46 bytes per blob: up to
   * PACKS_PER_INDEX packs of small files are 100,000s of blobs).
   */
  private unindexed: RecordedPack[] = [];
  /**
   * Packs whose put began and that no index written durably lists yet: what the journal holds.
   * A pack is noted before its put, not after: a put whose answer was lost (a timeout after the
   * service stored the object, the service killed between storing and answering) fails here yet
   * may have stored the pack, and adoption stats every noted pack, so a pack never stored costs
   * one `stat`.
   */
  private notDurable: RecordedPack[] = [];
  private failure: Error | undefined;
  readonly stats: WriterStats = {
    dataBlobs: 0,
    treeBlobs: 0,
    dataAdded: 0,
    dataAddedPacked: 0,
    packsWritten: 0,
    indexesWritten: [],
  };

  constructor(private readonly options: BlobWriterOptions) {}

  /** Whether the repository or this session (pending in a pack) holds blob `id`. */
  has(id: BlobId): boolean {
    return this.pending.has(id) || this.options.index.has(id);
  }

  /** Stores `plaintext` as a blob unless the repository already has it. Never retains `plaintext` after returning. */
  async save(type: BlobType, plaintext: Buffer, knownId?: BlobId): Promise<SaveResult> {
    this.throwIfFailed();
    const id = knownId ?? this.options.blobId(type, plaintext);
    if (this.has(id)) return { id, added: false, storedLength: 0 };
    this.pending.add(id);
    // The view is consumed by sealBlob at once, which copies into the sealed buffer.
    const compressed = compressBlobView(plaintext, this.options.compression);
    const stored = compressed ?? plaintext;
    const sealed = sealBlob(this.options.masterKey, type, id, stored);
    const packer = this.packerFor(type);
    const compression = compressed ? COMPRESSION_ZSTD : COMPRESSION_NONE;
    const adding = packer.add(id, sealed, plaintext.length, compression);
    const full = this.detachIfFull(packer);
    if (type === 'data') {
      this.stats.dataBlobs++;
      this.stats.dataAdded += plaintext.length;
      this.stats.dataAddedPacked += sealed.length;
    } else {
      this.stats.treeBlobs++;
    }
    if (adding !== undefined) await adding;
    if (full) await this.startUpload(packer);
    return { id, added: true, storedLength: sealed.length };
  }

  /**
   * Stores a blob sealed by a file sealer unless the repository has it or it is pending in this
   * session: this writer's index and pending set stay the one authority on dedup, so workers may
   * seal duplicates, which are dropped here. Counts and orders exactly like `save`. Retains
   * `blob.sealed` (often a view into a larger transferred buffer) until its pack is finished.
   */
  async saveSealed(type: BlobType, blob: SealedBlob): Promise<SaveResult> {
    this.throwIfFailed();
    const { id, sealed } = blob;
    if (this.has(id)) return { id, added: false, storedLength: 0 };
    this.pending.add(id);
    const packer = this.packerFor(type);
    const compression = blob.compressed ? COMPRESSION_ZSTD : COMPRESSION_NONE;
    const adding = packer.add(id, sealed, blob.rawLength, compression, blob.owner);
    const full = this.detachIfFull(packer);
    if (type === 'data') {
      this.stats.dataBlobs++;
      this.stats.dataAdded += blob.rawLength;
      this.stats.dataAddedPacked += sealed.length;
    } else {
      this.stats.treeBlobs++;
    }
    if (adding !== undefined) await adding;
    if (full) await this.startUpload(packer);
    return { id, added: true, storedLength: sealed.length };
  }

  /**
   * What a file sealer needs to seal blobs as `save` does: the master key and the compression
   * mode. The key goes to worker threads of this process only, never to storage or logs.
   */
  sealingSetup(): { readonly masterKey: Buffer; readonly compression: CompressionMode } {
    return { masterKey: this.options.masterKey, compression: this.options.compression };
  }

  /** Finishes open packs, waits for every upload, writes the remaining index entries. */
  async flush(): Promise<WriterStats> {
    for (const type of [...this.packers.keys()]) await this.rotate(type);
    await Promise.all(this.uploads);
    this.throwIfFailed();
    await this.writeIndex();
    return this.stats;
  }

  private packerFor(type: BlobType): PackFilling {
    let p = this.packers.get(type);
    if (!p) {
      const { packSize, spool } = this.options;
      p =
        type === 'data' && spool !== undefined
          ? new SpooledPacker(type, packSize, spool)
          : new Packer(type, packSize);
      this.packers.set(type, p);
    }
    return p;
  }

  /**
   * A full packer leaves the map at once, in the same turn as the blob that filled it: blobs
   * saved meanwhile (saves overlap, and a spooled packer's add may wait for its stage) start
   * the next pack instead of overfilling this one.
   */
  private detachIfFull(packer: PackFilling): boolean {
    if (!packer.isFull) return false;
    if (this.packers.get(packer.type) === packer) this.packers.delete(packer.type);
    return true;
  }

  private async rotate(type: BlobType): Promise<void> {
    const packer = this.packers.get(type);
    if (!packer || packer.blobCount === 0) return;
    this.packers.delete(type);
    await this.startUpload(packer);
  }

  /** Uploads `packer`'s pack once fewer than the limit are in flight (backpressure). */
  private async startUpload(packer: PackFilling): Promise<void> {
    const limit = this.options.uploadConcurrency ?? 2;
    while (this.uploads.size >= limit) await Promise.race(this.uploads);
    this.throwIfFailed();
    const upload = this.upload(packer).catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
    this.uploads.add(upload);
    void upload.finally(() => this.uploads.delete(upload));
  }

  private async upload(packer: PackFilling): Promise<void> {
    const { id: packId, body, entries, done } = await packer.finish(this.options.masterKey);
    const pack: RecordedPack = { packId, records: IndexRecords.encode(entries) };
    let stored = false;
    try {
      await this.store(packer.type, pack, body, entries);
      stored = true;
    } finally {
      // Last use of the body: its memory goes back to its owners, its spool file is removed.
      done(stored);
    }
    this.unindexed.push(pack);
    if (this.unindexed.length >= PACKS_PER_INDEX) await this.writeIndex();
  }

  /** Notes the pack in the journal, stores it and lists it in the master index. */
  private async store(
    type: BlobType,
    pack: RecordedPack,
    body: ObjectBody,
    entries: PackEntry[],
  ): Promise<void> {
    const { packId } = pack;
    if (type === 'tree' && !this.options.dryRun) this.options.cache?.markTreePack(packId);
    this.notDurable.push(pack);
    await this.noteUnindexed();
    try {
      if (!this.options.dryRun)
        await this.options.store.put('pack', packId, body, {
          ...this.signalOption(),
          sha256: packId,
        });
    } catch (err) {
      // Same name means same bytes (content-addressed): an earlier attempt already stored it.
      if (!(err instanceof HoldfastError && err.code === 'OBJECT_EXISTS')) throw err;
    }
    this.options.index.addPack(packId, entries);
    for (const e of entries) this.pending.delete(e.id);
    this.stats.packsWritten++;
    this.options.onPackWritten?.(packId, bodyLength(body));
  }

  private async writeIndex(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    const bytes = encodeIndexFile(this.options.masterKey, { supersedes: [], packs });
    const id = fileIdOf<IndexId>(bytes);
    if (this.options.dryRun) return;
    await this.options.store.put('index', id, bytes, { ...this.signalOption(), sha256: id });
    this.stats.indexesWritten.push(id);
    const indexed = new Set(packs.map((p) => p.packId));
    this.notDurable = this.notDurable.filter((p) => !indexed.has(p.packId));
    await this.noteUnindexed();
  }

  /** Updates the journal to the packs no durable index lists yet (uploads may overlap). */
  private async noteUnindexed(): Promise<void> {
    const journal = this.options.journal;
    if (!journal || this.options.dryRun) return;
    if (this.notDurable.length === 0) await journal.clear();
    else
      await journal.record(
        encodeIndexFile(this.options.masterKey, { supersedes: [], packs: this.notDurable }),
      );
  }

  private signalOption(): { signal?: AbortSignal } {
    return this.options.signal ? { signal: this.options.signal } : {};
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
