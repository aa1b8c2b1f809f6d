/**
 * Repository: an opened, unlocked repository — its config, master key, in-memory index, and the
 * read paths for blobs and snapshots. Writing goes through a BlobWriter from `writer()`.
 */
import { randomBytes } from 'node:crypto';
import {
  HoldfastError,
  systemClock,
  type BlobId,
  type Clock,
  type IndexId,
  type KeyId,
  type Logger,
  silentLogger,
  type SnapshotId,
  throwIfAborted,
  mapLimit,
} from '../../core/index.js';
import type { ObjectStore } from '../../storage/index.js';
import {
  DEFAULT_CHUNKER_PARAMS,
  validateChunkerParams,
  type ChunkerParams,
} from '../chunker/index.js';
import { decompressBlob, type CompressionMode } from '../compression/index.js';
import { blobIdOf, fileIdOf, type KdfCost } from '../crypto/index.js';
import {
  decodeIndexFile,
  decodeTree,
  openBlob,
  openJson,
  REPOSITORY_VERSION,
  sealJson,
  validateRepositoryConfig,
  validateSnapshot,
  type BlobType,
  type IndexFileContent,
  type PendingDeletion,
  type RepositoryConfig,
  type Snapshot,
  type Tree,
} from '../format/index.js';
import { MasterIndex } from '../index/index.js';
import { BlobWriter, type BlobWriterOptions } from './blob-writer.js';
import { createKeyFile, newMasterKey, unlockKeyFile, type KeyOwner } from './master-key.js';

export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

export interface InitOptions {
  readonly owner: KeyOwner;
  readonly clock?: Clock;
  readonly chunker?: ChunkerParams;
  readonly packSize?: number;
  readonly compression?: CompressionMode;
  readonly kdfCost?: KdfCost;
  /** Copy chunker and blob-id keys from another repository so copies deduplicate identically. */
  readonly contentKeysFrom?: RepositoryConfig;
  readonly signal?: AbortSignal;
}

export interface OpenOptions {
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface SnapshotEntry {
  readonly id: SnapshotId;
  readonly snapshot: Snapshot;
}

export class Repository {
  readonly index = new MasterIndex();
  /** Packs prune has unindexed and will delete (from the index files, after loadIndex). */
  readonly pendingDeletions: PendingDeletion[] = [];
  readonly idKey: Buffer;
  readonly chunkerKey: Buffer;
  readonly chunkerParams: ChunkerParams;
  private indexLoaded = false;

  private constructor(
    readonly store: ObjectStore,
    readonly config: RepositoryConfig,
    private readonly masterKey: Buffer,
    readonly keyId: KeyId,
    readonly clock: Clock,
    readonly logger: Logger,
  ) {
    this.idKey = Buffer.from(config.blob_id_key, 'base64');
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
    const chunker = options.chunker ?? DEFAULT_CHUNKER_PARAMS;
    validateChunkerParams(chunker);
    const packSize = options.packSize ?? DEFAULT_PACK_SIZE;
    if (packSize < 4 * 1024 * 1024 || packSize > 128 * 1024 * 1024) {
      throw new HoldfastError('USAGE', `pack size ${packSize} bytes is outside 4 MiB to 128 MiB`, {
        hint: 'see docs/adr/0004-pack-size.md',
      });
    }
    const from = options.contentKeysFrom;
    const config: RepositoryConfig = {
      version: REPOSITORY_VERSION,
      id: randomBytes(32).toString('hex'),
      created: clock.now().toISOString(),
      chunker: from
        ? { ...from.chunker }
        : {
            min_size: chunker.minSize,
            avg_size: chunker.avgSize,
            max_size: chunker.maxSize,
            key: randomBytes(32).toString('base64'),
          },
      blob_id_key: from ? from.blob_id_key : randomBytes(32).toString('base64'),
      pack_size: packSize,
      compression: options.compression ?? 'auto',
    };
    const masterKey = newMasterKey();
    const key = await createKeyFile(
      masterKey,
      password,
      options.owner,
      clock.now(),
      options.kdfCost,
    );
    const signal = options.signal ? { signal: options.signal } : {};
    await store.create(signal);
    // Key before config: a repository is only "found" once its config exists, and by then a key opens it.
    await store.put('key', key.id, key.bytes, signal);
    await store.put('config', 'config', sealJson(masterKey, 'config', config), signal);
    return new Repository(store, config, masterKey, key.id, clock, silentLogger);
  }

  static async open(
    store: ObjectStore,
    password: string,
    options: OpenOptions = {},
  ): Promise<Repository> {
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
    const files = await this.readIndexFiles(signal);
    const superseded = new Set<string>();
    for (const f of files) for (const s of f.content.supersedes) superseded.add(s);
    for (const f of files) {
      if (superseded.has(f.id)) continue;
      for (const p of f.content.packs) this.index.addPack(p.packId, p.entries);
      this.pendingDeletions.push(...(f.content.deletions ?? []));
    }
    this.indexLoaded = true;
  }

  /** Every index file, decoded. Damaged ones throw INTEGRITY naming the file. */
  async readIndexFiles(
    signal?: AbortSignal,
  ): Promise<{ id: IndexId; content: IndexFileContent }[]> {
    // A prune may replace index files between our listing and our reads; the replacement is
    // written before the old files are deleted, so listing again always finds a complete view.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readIndexFilesOnce(signal);
      } catch (err) {
        if (!(err instanceof HoldfastError && err.code === 'NOT_FOUND') || attempt >= 5) throw err;
      }
    }
  }

  private async readIndexFilesOnce(
    signal?: AbortSignal,
  ): Promise<{ id: IndexId; content: IndexFileContent }[]> {
    const names: string[] = [];
    for await (const info of this.store.list('index', signal ? { signal } : {}))
      names.push(info.name);
    return mapLimit(names, 8, async (name) => {
      throwIfAborted(signal);
      const bytes = await this.store.get('index', name, undefined, signal ? { signal } : {});
      if (fileIdOf(bytes) !== name)
        throw new HoldfastError('INTEGRITY', `index ${name}: content does not match its name`);
      return {
        id: name as IndexId,
        content: decodeIndexFile(this.masterKey, bytes, `index ${name}`),
      };
    });
  }

  /** Reads, decrypts, decompresses and verifies one blob. */
  async loadBlob(type: BlobType, id: BlobId, signal?: AbortSignal): Promise<Buffer> {
    const loc = this.index.lookup(id);
    if (!loc || loc.type !== type) {
      throw new HoldfastError('INTEGRITY', `${type} blob ${id} is not in the index`, {
        hint: 'run "holdfast check"; if packs exist that the index misses, "holdfast repair index"',
      });
    }
    const sealed = await this.store.get(
      'pack',
      loc.packId,
      { offset: loc.offset, length: loc.length },
      signal ? { signal } : {},
    );
    return this.decodeBlob(type, id, sealed, loc.compression, loc.rawLength, `pack ${loc.packId}`);
  }

  /** Opens a sealed blob read from a pack and verifies its id. */
  decodeBlob(
    type: BlobType,
    id: BlobId,
    sealed: Buffer,
    compression: number,
    rawLength: number,
    where: string,
  ): Buffer {
    const stored = openBlob(this.masterKey, type, id, sealed);
    const plain = compression === 1 ? decompressBlob(stored, rawLength) : stored;
    if (plain.length !== rawLength || this.blobId(type, plain) !== id) {
      throw new HoldfastError(
        'INTEGRITY',
        `${type} blob ${id} in ${where}: content does not match its id`,
      );
    }
    return plain;
  }

  async loadTree(id: BlobId, signal?: AbortSignal): Promise<Tree> {
    return decodeTree(await this.loadBlob('tree', id, signal));
  }

  writer(
    options: Partial<
      Pick<
        BlobWriterOptions,
        'compression' | 'uploadConcurrency' | 'signal' | 'onPackWritten' | 'dryRun' | 'index'
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
      ...options,
    });
  }

  /** Writes a snapshot: the commit point. Call only after the writer has flushed. */
  async saveSnapshot(snapshot: Snapshot, signal?: AbortSignal): Promise<SnapshotId> {
    const bytes = sealJson(this.masterKey, 'snapshot', snapshot);
    const id = fileIdOf<SnapshotId>(bytes);
    await this.store.put('snapshot', id, bytes, signal ? { signal } : {});
    return id;
  }

  async loadSnapshot(id: SnapshotId, signal?: AbortSignal): Promise<Snapshot> {
    const bytes = await this.store.get('snapshot', id, undefined, signal ? { signal } : {});
    if (fileIdOf(bytes) !== id)
      throw new HoldfastError('INTEGRITY', `snapshot ${id}: content does not match its name`);
    return validateSnapshot(
      openJson(this.masterKey, 'snapshot', bytes, `snapshot ${id}`),
      `snapshot ${id}`,
    );
  }

  /** All snapshots, oldest first. */
  async listSnapshots(signal?: AbortSignal): Promise<SnapshotEntry[]> {
    const ids: SnapshotId[] = [];
    for await (const info of this.store.list('snapshot', signal ? { signal } : {}))
      ids.push(info.name as SnapshotId);
    const entries = await mapLimit(ids, 16, async (id) => ({
      id,
      snapshot: await this.loadSnapshot(id, signal),
    }));
    return entries.sort(
      (a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id),
    );
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

  /** Adds a key file for `password` that unlocks this repository's master key. */
  async addKey(password: string, owner: KeyOwner, cost?: KdfCost): Promise<KeyId> {
    const key = await createKeyFile(this.masterKey, password, owner, this.clock.now(), cost);
    await this.store.put('key', key.id, key.bytes);
    return key.id;
  }
}

async function unlockWithPassword(
  store: ObjectStore,
  password: string,
  configBytes: Buffer,
  signal?: AbortSignal,
): Promise<{ masterKey: Buffer; keyId: KeyId }> {
  const opt = signal ? { signal } : {};
  const names: string[] = [];
  for await (const info of store.list('key', opt)) names.push(info.name);
  for (const name of names) {
    throwIfAborted(signal);
    const bytes = await store.get('key', name, undefined, opt);
    // A damaged or forged key file must not stop the other keys from being tried.
    if (fileIdOf(bytes) !== name) continue;
    let masterKey: Buffer | undefined;
    try {
      masterKey = await unlockKeyFile(bytes, password, `key ${name}`);
    } catch (err) {
      if (
        err instanceof HoldfastError &&
        (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT')
      )
        continue;
      throw err;
    }
    // The key must open this repository's config (an orphan key of an interrupted init may not).
    if (masterKey && opensConfig(masterKey, configBytes))
      return { masterKey, keyId: name as KeyId };
  }
  throw new HoldfastError('WRONG_PASSWORD', 'wrong password or no key found', {
    hint: 'check HOLDFAST_PASSWORD / --password-file; "holdfast key list" shows the keys of a repository',
  });
}

function opensConfig(masterKey: Buffer, configBytes: Buffer): boolean {
  try {
    openJson(masterKey, 'config', configBytes, 'config');
    return true;
  } catch {
    return false;
  }
}
