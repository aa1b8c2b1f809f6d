/**
 * CachingStore: a decorator that keeps local copies of a remote repository's metadata — index
 * and snapshot objects, and the packs the engine names as tree packs — so that listing, browsing
 * and the next backup do not download them again (repository-format.md, "Local cache").
 *
 * What it serves from the cache, and why that is safe:
 * - Only objects named by their SHA-256 (every kind but config, §2.1), and only copies whose hash
 *   still matches (CacheDirectory). Objects are write-once, so a verified copy has the bytes the
 *   repository holds or held under that name.
 * - Only objects the repository still has as far as this process knows: an index or snapshot
 *   must be in this process's latest complete listing of its kind (or written by this process);
 *   a pack must be a tree pack of the index loaded now, and in the latest pack listing if there
 *   was one. A deleted snapshot therefore never reappears from the cache.
 * - Every complete listing of index, snapshot or pack drops the cached copies it no longer
 *   contains (deleted by forget or prune, here or on another client); `setTreePacks` does the
 *   same for packs the loaded index no longer lists.
 * Config, keys and locks always go to the repository. Writes go to the repository first; only
 * then is the copy stored (write-through). Data packs are never cached.
 */
import type {
  ByteRange,
  ObjectInfo,
  ObjectFiles,
  ObjectBody,
  ObjectKind,
  ObjectRetention,
  ObjectStore,
  PutOptions,
  GetOptions,
  StoreCallOptions,
} from '../object-store.js';
import { readBody } from '../object-store.js';
import { assertValidRange, rangePastEnd } from '../store-errors.js';
import { sha256, type CacheDirectory } from './cache-directory.js';

const CACHED_KINDS: ReadonlySet<ObjectKind> = new Set(['index', 'snapshot', 'pack']);

export class CachingStore implements ObjectStore {
  readonly location: string;
  readonly retention: ObjectRetention | undefined;
  readonly files: ObjectFiles | undefined;
  /** Names in this process's latest complete listing of each cached kind, plus its own writes. */
  private readonly listed = new Map<ObjectKind, Set<string>>();
  private treePacks = new Set<string>();
  private readonly fetching = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly inner: ObjectStore,
    readonly directory: CacheDirectory,
  ) {
    this.location = inner.location;
    this.files = inner.files;
    this.retention = inner.retention;
  }

  /**
   * The tree packs of the index now loaded: only these packs are cached, and cached packs not
   * among them (pruned, or never indexed) are dropped. Never throws.
   */
  async setTreePacks(names: Iterable<string>): Promise<void> {
    this.treePacks = new Set(names);
    await this.directory.retain('pack', this.treePacks);
  }

  /** One more tree pack: call before putting a tree pack, so that it is written through. */
  markTreePack(name: string): void {
    this.treePacks.add(name);
  }

  create(options?: StoreCallOptions): Promise<void> {
    return this.inner.create(options);
  }

  async put(kind: ObjectKind, name: string, data: ObjectBody, options?: PutOptions): Promise<void> {
    await this.inner.put(kind, name, data, options);
    if (!this.caches(kind, name)) return;
    this.listed.get(kind)?.add(name);
    const bytes = await readBody(data);
    // The writer's hash when it gave one (an S3 service has just checked the body against it):
    // not computed a second time. Cached files are verified again before every use anyway.
    if ((options?.sha256 ?? sha256(bytes)) === name) await this.directory.write(kind, name, bytes);
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options?: GetOptions,
  ): Promise<Buffer> {
    if (!this.caches(kind, name)) return this.inner.get(kind, name, range, options);
    if (range) assertValidRange(range);
    if (this.servable(kind, name)) {
      const hit =
        kind === 'pack'
          ? await this.directory.readPack(name, range)
          : await this.directory.read(kind, name);
      if (hit) return range && kind !== 'pack' ? slice(kind, name, hit, range) : hit;
    }
    // Without a writable cache a whole tree pack per ranged read would cost more than no cache.
    if (range && !this.directory.writable) return this.inner.get(kind, name, range, options);
    const bytes = await this.fetch(kind, name, options);
    return range ? slice(kind, name, bytes, range) : bytes;
  }

  /**
   * A miss fetches the whole object, even for a range: the rest of a tree pack is read soon.
   * Concurrent misses of one object share one download; each caller gets memory of its own.
   */
  private fetch(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<Buffer> {
    const key = `${kind}/${name}`;
    const joined = this.fetching.get(key);
    // A caller owns what get returns (ObjectStore contract), so one who joined gets a copy. The
    // copy is a reaction to the download itself, queued together with the first caller's, so it
    // runs before that caller's own caller can transfer or change the bytes.
    if (joined) return joined.then((bytes) => Buffer.from(bytes));
    const pending = (async () => {
      // Without `into` or `sink`: these bytes are kept and shared with joining callers.
      const signal = options?.signal;
      const bytes = await this.inner.get(kind, name, undefined, signal ? { signal } : {});
      if (sha256(bytes) === name) await this.directory.write(kind, name, bytes);
      return bytes;
    })().finally(() => this.fetching.delete(key));
    this.fetching.set(key, pending);
    return pending;
  }

  async stat(
    kind: ObjectKind,
    name: string,
    options?: StoreCallOptions,
  ): Promise<ObjectInfo | undefined> {
    const info = await this.inner.stat(kind, name, options);
    if (!info && CACHED_KINDS.has(kind)) await this.forget(kind, name);
    return info;
  }

  async *list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    const names = new Set<string>();
    for await (const info of this.inner.list(kind, options)) {
      names.add(info.name);
      yield info;
    }
    // Only a complete listing says what is gone; a caller that stopped early saw part of it.
    if (!CACHED_KINDS.has(kind)) return;
    this.listed.set(kind, names);
    await this.directory.retain(kind, names);
  }

  async delete(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<void> {
    await this.inner.delete(kind, name, options);
    if (CACHED_KINDS.has(kind)) await this.forget(kind, name);
  }

  close(): Promise<void> {
    this.directory.closeFiles();
    return this.inner.close();
  }

  private caches(kind: ObjectKind, name: string): boolean {
    if (kind === 'pack') return this.treePacks.has(name);
    return kind === 'index' || kind === 'snapshot';
  }

  /** Whether the repository still has the object as far as this process knows. */
  private servable(kind: ObjectKind, name: string): boolean {
    const listed = this.listed.get(kind);
    if (kind === 'pack') return this.treePacks.has(name) && (listed?.has(name) ?? true);
    return listed?.has(name) ?? false;
  }

  private async forget(kind: ObjectKind, name: string): Promise<void> {
    this.listed.get(kind)?.delete(name);
    if (kind === 'pack') this.treePacks.delete(name);
    await this.directory.remove(kind, name);
  }
}

function slice(kind: ObjectKind, name: string, bytes: Buffer, range: ByteRange): Buffer {
  if (range.offset + range.length > bytes.length)
    throw rangePastEnd(kind, name, range, bytes.length);
  return bytes.subarray(range.offset, range.offset + range.length);
}
