/**
 * MemoryStore: an ObjectStore in a Map, for tests and `memory:` repositories that live as long as
 * the process. Same contract as every backend (it runs the same conformance suite); buffers are
 * copied on the way in and out so no caller can change stored bytes behind the store's back.
 */
import { throwIfAborted } from '../../core/index.js';
import { assertValidObjectName } from '../object-name.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectBody,
  ObjectKind,
  ObjectStore,
  GetOptions,
  StoreCallOptions,
} from '../object-store.js';
import { readBody } from '../object-store.js';
import {
  assertValidRange,
  objectExists,
  objectNotFound,
  rangePastEnd,
  storeClosed,
} from '../store-errors.js';

/** The stored objects, keyed by `kind/name`. Share one between stores to share their contents. */
export type MemoryObjects = Map<string, Buffer>;

export interface MemoryStoreOptions {
  readonly location?: string;
  readonly objects?: MemoryObjects;
}

export class MemoryStore implements ObjectStore {
  readonly location: string;
  readonly #objects: MemoryObjects;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.location = options.location ?? 'memory:';
    this.#objects = options.objects ?? new Map<string, Buffer>();
  }

  async create(options: StoreCallOptions = {}): Promise<void> {
    await this.#enter(options.signal);
  }

  async put(
    kind: ObjectKind,
    name: string,
    data: ObjectBody,
    options: StoreCallOptions = {},
  ): Promise<void> {
    await this.#enter(options.signal, kind, name);
    // Joined or read before the check: check-and-set runs without an await in between, which
    // makes it atomic in one process. A copy: the caller may reuse its buffers once put resolves.
    const bytes = await readBody(data);
    const key = keyOf(kind, name);
    if (this.#objects.has(key)) throw objectExists(kind, name);
    this.#objects.set(key, bytes === data ? Buffer.from(bytes) : (bytes as Buffer));
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: GetOptions = {},
  ): Promise<Buffer> {
    if (range) assertValidRange(range);
    await this.#enter(options.signal, kind, name);
    const stored = this.#objects.get(keyOf(kind, name));
    if (!stored) throw objectNotFound(kind, name);
    if (!range) return Buffer.from(stored);
    if (range.offset + range.length > stored.length) {
      throw rangePastEnd(kind, name, range, stored.length);
    }
    return Buffer.from(stored.subarray(range.offset, range.offset + range.length));
  }

  async stat(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<ObjectInfo | undefined> {
    await this.#enter(options.signal, kind, name);
    const stored = this.#objects.get(keyOf(kind, name));
    return stored ? { name, size: stored.length } : undefined;
  }

  async *list(kind: ObjectKind, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    await this.#enter(options.signal);
    const prefix = keyOf(kind, '');
    // Snapshot first: like a directory listing, later puts may or may not show up.
    const found: ObjectInfo[] = [];
    for (const [key, stored] of this.#objects) {
      if (key.startsWith(prefix))
        found.push({ name: key.slice(prefix.length), size: stored.length });
    }
    for (const info of found) {
      throwIfAborted(options.signal);
      yield info;
    }
  }

  async delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    await this.#enter(options.signal, kind, name);
    this.#objects.delete(keyOf(kind, name));
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Common entry: validates, then yields once so callers see real asynchrony, then re-checks. */
  async #enter(signal: AbortSignal | undefined, kind?: ObjectKind, name?: string): Promise<void> {
    if (this.#closed) throw storeClosed(this.location);
    if (kind !== undefined && name !== undefined) assertValidObjectName(kind, name);
    throwIfAborted(signal);
    await Promise.resolve();
    throwIfAborted(signal);
  }
}

function keyOf(kind: ObjectKind, name: string): string {
  return `${kind}/${name}`;
}
