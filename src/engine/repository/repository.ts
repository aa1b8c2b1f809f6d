/**
 * Repository: an opened, unlocked repository — its config, master key, in-memory index, and the
 * read paths for blobs and snapshots. Writing goes through a BlobWriter from `writer()`.
 */
import {
  defaultWorkerThreads,
  HoldfastError,
  systemClock,
  type BlobId,
  type PackId,
  type Clock,
  type KeyId,
  type Logger,
  silentLogger,
  type SnapshotId,
} from '../../core/index.js';
import type { CachingStore, ObjectKind, ObjectStore } from '../../storage/index.js';
import type { ChunkerParams } from '../chunker/index.js';
import type { CompressionMode } from '../compression/index.js';
import { blobIdOf, fileIdOf, type KdfCost } from '../crypto/index.js';
import {
  decodeTree,
  unsealBlob,
  type BlobKeys,
  openJson,
  openFile,
  sealFile,
  sealJson,
  validateRepositoryConfig,
  type BlobType,
  type PendingDeletion,
  type RepositoryConfig,
  type Snapshot,
  type Tree,
} from '../format/index.js';
import { AlternativeLocations, MasterIndex, type BlobLocation } from '../index/index.js';
import {
  ObjectLock,
  RetainingStore,
  RetentionPolicy,
  type DeleteOutcome,
  type ExtendResult,
  type ObjectRef,
} from '../retention/index.js';
import { BlobReader } from './blob-reader.js';
import { BlobWriter, type BlobWriterOptions } from './blob-writer.js';
import { adoptJournaledPacks, cacheJournal } from './pack-journal.js';
import { openIndexFiles, readIndexFiles, type IndexFile } from './index-files.js';
import { addIndexFiles } from './index-loading.js';
import { newRepositoryConfig, type NewConfigOptions } from './new-config.js';
import { readSnapshot, readSnapshots, type SnapshotEntry } from './snapshot-files.js';
import { createKeyFile, newMasterKey, type KeyOwner } from './master-key.js';
import { unlockWithPassword } from './unlock.js';

export interface InitOptions extends NewConfigOptions {
  readonly owner: KeyOwner;
  readonly clock?: Clock;
  readonly kdfCost?: KdfCost;
  readonly signal?: AbortSignal;
}

export interface OpenOptions {
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Worker threads each backup, restore or check starts (default: one per core, ≤ 8). */
  readonly workerThreads?: number;
  /**
   * Puts a local cache around the store once the repository id is known (from the config); the
   * config and keys are read before, uncached. Undefined, or a factory returning undefined: no cache.
   */
  readonly cache?: (store: ObjectStore, repositoryId: string) => CachingStore | undefined;
}

export class Repository {
  readonly index = new MasterIndex();
  /** Other locations index files give (duplicates, superseded files): read fallbacks only. */
  readonly alternatives = new AlternativeLocations();
  /** Packs prune has unindexed and will delete (from the index files, after loadIndex). */
  readonly pendingDeletions: PendingDeletion[] = [];
  /** Index files read by loadIndex: lets a backup notice that a prune replaced some meanwhile. */
  readonly loadedIndexFiles = new Set<string>();
  /** Every index file loadIndex listed (damaged and superseded ones too): what it has seen. */
  readonly listedIndexFiles = new Set<string>();
  readonly idKey: Buffer;
  readonly chunkerKey: Buffer;
  /** masterKey and idKey together, as unsealBlob takes them (built once, not per blob). */
  private readonly keys: BlobKeys;
  readonly chunkerParams: ChunkerParams;
  /** Index files superseded by others (from loadIndex): nothing depends on them any more. */
  readonly supersededIndexFiles = new Set<string>();
  /** Set when the repository uses object lock; then `store` retains what it writes. */
  readonly objectLock: ObjectLock | undefined;
  readonly store: ObjectStore;
  /** The local metadata cache `store` reads through, when the repository was opened with one. */
  readonly cache: CachingStore | undefined;
  private indexLoaded = false;
  /** Blobs read at their location, or at another one when that fails (blob-reader.ts). */
  private readonly blobs: BlobReader;

  private constructor(
    store: ObjectStore,
    readonly config: RepositoryConfig,
    private readonly masterKey: Buffer,
    readonly keyId: KeyId,
    readonly clock: Clock,
    readonly logger: Logger,
    /**
     * Worker threads each backup, restore or check starts to hash, compress, seal, open and
     * verify blobs: one per core, at most 8, by default (defaultWorkerThreads). Each holds a V8
     * heap and its own buffers (30–45 MiB at the peak, docs/benchmarks-history.md, part S), so
     * fewer bound memory and leave cores to others (a database being dumped), at the cost of speed.
     */
    readonly workerThreads: number,
    cache?: OpenOptions['cache'],
  ) {
    this.objectLock = config.object_lock
      ? new ObjectLock(new RetentionPolicy(config.object_lock), clock)
      : undefined;
    this.cache = cache?.(store, config.id);
    const base = this.cache ?? store;
    // Retention outside the cache: every put still gets its lock before it reaches storage.
    this.store = this.objectLock ? new RetainingStore(base, this.objectLock) : base;
    this.idKey = Buffer.from(config.blob_id_key, 'base64');
    this.keys = { masterKey, idKey: this.idKey };
    this.blobs = new BlobReader({
      store: this.store,
      keys: this.keys,
      index: this.index,
      alternatives: this.alternatives,
      logger,
      packSize: config.pack_size,
      // A cache whose writes failed serves only what it has: from then on, whole packs again.
      treeRangesLocal: () => base.files !== undefined || this.cache?.directory.writable === true,
    });
    this.chunkerKey = Buffer.from(config.chunker.key, 'base64');
    this.chunkerParams = {
      minSize: config.chunker.min_size,
      avgSize: config.chunker.avg_size,
      maxSize: config.chunker.max_size,
    };
  }

  /** Creates a new repository; refuses when one exists at the location. */
  static async init(
    store: ObjectStore,
    password: string,
    options: InitOptions,
  ): Promise<Repository> {
    const clock = options.clock ?? systemClock;
    if (await store.stat('config', 'config').catch(() => undefined)) {
      throw new HoldfastError(
        'REPOSITORY_EXISTS',
        `a repository already exists at ${store.location}`,
        {
          hint: 'choose another location; init never overwrites a repository',
        },
      );
    }
    const config = newRepositoryConfig(options, clock.now());
    const masterKey = newMasterKey();
    const key = await createKeyFile(
      masterKey,
      password,
      options.owner,
      clock.now(),
      options.kdfCost,
    );
    const signal = options.signal ? { signal: options.signal } : {};
    if (options.objectLock) {
      if (!store.retention)
        throw new HoldfastError('USAGE', `${store.location} does not support object lock`, {
          hint: 'object lock needs an S3 location (s3:...)',
        });
      await store.retention.prepare(signal);
    }
    await store.create(signal);
    const repo = new Repository(
      store,
      config,
      masterKey,
      key.id,
      clock,
      silentLogger,
      defaultWorkerThreads(),
    );
    // Key before config: a repository is only "found" once its config exists, and by then a key opens it.
    await repo.store.put('key', key.id, key.bytes, signal);
    await repo.store.put('config', 'config', sealJson(masterKey, 'config', config), signal);
    return repo;
  }

  static async open(
    store: ObjectStore,
    password: string,
    options: OpenOptions = {},
  ): Promise<Repository> {
    const threads = options.workerThreads;
    if (threads !== undefined && !(Number.isSafeInteger(threads) && threads >= 1))
      throw new HoldfastError('USAGE', `worker threads must be a whole number ≥ 1, not ${threads}`);
    const signal = options.signal ? { signal: options.signal } : {};
    const configInfo = await store.stat('config', 'config', signal);
    if (!configInfo) {
      throw new HoldfastError('REPOSITORY_NOT_FOUND', `no repository at ${store.location}`, {
        hint: 'check --repo / HOLDFAST_REPOSITORY, or create one with "holdfast init"',
      });
    }
    const configBytes = await store.get('config', 'config', undefined, signal);
    const unlocked = await unlockWithPassword(store, password, configBytes, options.signal);
    const config = validateRepositoryConfig(
      openJson(unlocked.masterKey, 'config', configBytes, 'config'),
    );
    return new Repository(
      store,
      config,
      unlocked.masterKey,
      unlocked.keyId,
      options.clock ?? systemClock,
      options.logger ?? silentLogger,
      options.workerThreads ?? defaultWorkerThreads(),
      options.cache,
    );
  }

  blobId(type: BlobType, plaintext: Uint8Array): BlobId {
    return blobIdOf(this.idKey, type, plaintext);
  }

  get compression(): CompressionMode {
    return this.config.compression;
  }

  /** Reads every index file into the master index (once). */
  async loadIndex(signal?: AbortSignal): Promise<void> {
    if (this.indexLoaded) return;
    const treePacks = await this.addIndexFiles(signal);
    // Once the decoded index files are unreachable, so that their memory and the compaction's
    // are not needed at the same time.
    this.index.compactIfLarge();
    await this.cache?.setTreePacks(treePacks);
    this.indexLoaded = true;
  }

  /**
   * Adds every index file's entries to the master index (index-loading.ts), settles the
   * entries that contradict each other, and returns the tree packs.
   */
  private async addIndexFiles(signal?: AbortSignal): Promise<Set<string>> {
    const { listed, files } = await openIndexFiles(this.store, this.masterKey, signal);
    for (const id of listed) this.listedIndexFiles.add(id);
    const added = addIndexFiles(files, this.index, this.alternatives);
    // Only files in effect: one already superseded says nothing about a prune running now.
    for (const id of added.inEffect) this.loadedIndexFiles.add(id);
    for (const id of added.superseded) this.supersededIndexFiles.add(id);
    this.pendingDeletions.push(...added.deletions);
    await this.blobs.settleConflicts(added.conflicts, signal);
    return added.treePacks;
  }

  /** Where `id` is read from: the master index's location, else an alternative one. */
  locate(id: BlobId): BlobLocation | undefined {
    return this.blobs.locate(id);
  }

  /** Every index file, decoded. Damaged ones throw INTEGRITY naming the file. */
  readIndexFiles(signal?: AbortSignal): Promise<IndexFile[]> {
    return readIndexFiles(this.store, this.masterKey, signal);
  }

  /**
   * Reads, decrypts, decompresses and verifies one blob; from another location an index file
   * gives when its own does not hold it (blob-reader.ts).
   */
  loadBlob(type: BlobType, id: BlobId, signal?: AbortSignal): Promise<Buffer> {
    return this.blobs.load(type, id, signal);
  }

  /**
   * loadBlob for a blob another reader (a restore worker) could not read or verify at its
   * location; says once per pack that it took a second read (BlobReader.reload).
   */
  reloadBlob(type: BlobType, id: BlobId, signal?: AbortSignal): Promise<Buffer> {
    return this.blobs.reload(type, id, signal);
  }

  /** Opens a sealed blob read from a pack and verifies its id (unsealBlob). */
  decodeBlob(
    type: BlobType,
    id: BlobId,
    sealed: Buffer,
    compression: number,
    rawLength: number,
    where: string,
  ): Buffer {
    return unsealBlob(this.keys, type, id, sealed, compression, rawLength, where);
  }

  /**
   * The keys that open and verify blobs, for readers on worker threads (the restore's file
   * workers, which receive copies). Never logged, never written anywhere.
   */
  blobKeys(): BlobKeys {
    return this.keys;
  }

  /** A tree, decoded straight from the reader's reused buffer (BlobReader.loadDecoded). */
  loadTree(id: BlobId, signal?: AbortSignal): Promise<Tree> {
    return this.blobs.loadDecoded('tree', id, decodeTree, signal);
  }

  writer(
    options: Partial<
      Pick<
        BlobWriterOptions,
        | 'compression'
        | 'uploadConcurrency'
        | 'signal'
        | 'onPackWritten'
        | 'dryRun'
        | 'index'
        | 'spool'
      >
    > = {},
  ): BlobWriter {
    return new BlobWriter({
      store: this.store,
      index: this.index,
      masterKey: this.masterKey,
      blobId: (type, p) => this.blobId(type, p),
      packSize: this.config.pack_size,
      compression: options.compression ?? this.config.compression,
      ...(this.cache && { cache: this.cache, journal: cacheJournal(this.cache.directory) }),
      ...options,
    });
  }

  /**
   * Indexes the packs that earlier sessions on this machine uploaded but could not index (their
   * journals in the local cache, §2.5), so this session reuses their blobs. Call after
   * `loadIndex`, under a shared lock. Returns how many packs were adopted; 0 without a cache.
   */
  async adoptJournaledPacks(signal?: AbortSignal): Promise<number> {
    if (!this.cache) return 0;
    return adoptJournaledPacks({
      directory: this.cache.directory,
      store: this.store,
      masterKey: this.masterKey,
      index: this.index,
      pendingPacks: new Set(this.pendingDeletions.flatMap((d) => d.packs)),
      ...(signal && { signal }),
    });
  }

  /** Writes a snapshot: the commit point. Call only after the writer has flushed. */
  async saveSnapshot(snapshot: Snapshot, signal?: AbortSignal): Promise<SnapshotId> {
    // Object lock: what the snapshot depends on must stay at least as long as the snapshot.
    if (this.objectLock) await this.extendRetention(signal);
    const bytes = sealJson(this.masterKey, 'snapshot', snapshot);
    const id = fileIdOf<SnapshotId>(bytes);
    await this.store.put('snapshot', id, bytes, signal ? { signal } : {});
    return id;
  }

  /**
   * Object lock: extends the retention of everything a snapshot written now may depend on — the
   * config, every key, every index file in effect and every indexed pack — to the snapshot's own
   * horizon (repository-format.md, "Object lock"). Loads the index if needed. A superset of the
   * snapshot's packs, found without reading a tree; unindexed packs (prune's) are left to expire.
   */
  async extendRetention(signal?: AbortSignal): Promise<ExtendResult | undefined> {
    if (!this.objectLock) return undefined;
    await this.loadIndex(signal);
    const opt = signal ? { signal } : {};
    const objects: ObjectRef[] = [['config', 'config']];
    for await (const k of this.store.list('key', opt)) objects.push(['key', k.name]);
    for (const id of this.loadedIndexFiles)
      if (!this.supersededIndexFiles.has(id)) objects.push(['index', id]);
    for (const id of this.objectLock.written('index')) objects.push(['index', id]);
    for (const packId of this.index.allPackIds()) objects.push(['pack', packId]);
    return this.objectLock.extend(this.store, objects, this.logger, signal);
  }

  /**
   * Deletes an object unless object lock retains it; then reports until when. Deleting commands
   * (prune, forget, key remove) use this and never try to remove a locked object.
   */
  async deleteObject(kind: ObjectKind, name: string, signal?: AbortSignal): Promise<DeleteOutcome> {
    if (kind === 'pack') this.blobs.forgetPack(name as PackId);
    if (this.store instanceof RetainingStore)
      return this.store.deleteUnlessRetained(kind, name, signal);
    await this.store.delete(kind, name, signal ? { signal } : {});
    return {};
  }

  /** Object lock: until when an object is still retained (undefined when it may be deleted). */
  async retainedUntil(
    kind: ObjectKind,
    name: string,
    signal?: AbortSignal,
  ): Promise<Date | undefined> {
    return this.objectLock?.retainedUntil(this.store, kind, name, signal);
  }

  loadSnapshot(id: SnapshotId, signal?: AbortSignal): Promise<Snapshot> {
    return readSnapshot(this.store, this.masterKey, id, signal);
  }

  /** All snapshots, oldest first. */
  listSnapshots(signal?: AbortSignal): Promise<SnapshotEntry[]> {
    return readSnapshots(this.store, this.masterKey, signal);
  }

  /** The master key, for the checker and repair, which decode files below the Repository API. */
  masterKeyForCheck(): Buffer {
    return this.masterKey;
  }

  /** Seals any JSON-able value as a lock file (used by locks). */
  sealLock(value: unknown): Buffer {
    return sealJson(this.masterKey, 'lock', value);
  }

  openLock(bytes: Buffer, what: string): unknown {
    return openJson(this.masterKey, 'lock', bytes, what);
  }

  /**
   * Seals a walk cache (engine/archiver/walk-cache.ts) under this repository's key: the cache
   * lives on the client's disk, and a tampered or foreign one must fail to open, not steer a
   * backup into reusing trees.
   */
  sealWalkCache(plaintext: Uint8Array): Buffer {
    return sealFile(this.masterKey, 'walk-cache', plaintext);
  }

  openWalkCache(bytes: Buffer, what: string): Buffer {
    return openFile(this.masterKey, 'walk-cache', bytes, what);
  }

  /** Adds a key file for `password` that unlocks this repository's master key. */
  async addKey(password: string, owner: KeyOwner, cost?: KdfCost): Promise<KeyId> {
    const key = await createKeyFile(this.masterKey, password, owner, this.clock.now(), cost);
    await this.store.put('key', key.id, key.bytes);
    return key.id;
  }
}
