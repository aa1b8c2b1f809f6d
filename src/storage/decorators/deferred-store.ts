/**
 * DeferredStore: a store whose implementation is loaded on its first call.
 *
 * Why: the AWS SDK takes about 0.3 s to load, as long as a whole `snapshots` command should
 * take. Loading it only when an s3: repository is actually used keeps every other command, and
 * every command on local or rest: repositories, free of that cost. The same applies to any
 * backend with a heavy client library.
 *
 * Every call waits for the inner store, then forwards unchanged; a failure to load rejects each
 * call with that failure. `close` before any call closes nothing.
 */
import type {
  ByteRange,
  ObjectInfo,
  ObjectBody,
  ObjectKind,
  ObjectRetention,
  ObjectStore,
  PutOptions,
  Retention,
  GetOptions,
  StoreCallOptions,
} from '../object-store.js';

export interface DeferredStoreOptions {
  /** Where the store points, for messages; known before loading. */
  readonly location: string;
  /** Whether the loaded store will have the object lock capability. */
  readonly retention: boolean;
  readonly load: () => Promise<ObjectStore>;
}

export class DeferredStore implements ObjectStore {
  readonly location: string;
  readonly retention: ObjectRetention | undefined;
  readonly #load: () => Promise<ObjectStore>;
  #inner: Promise<ObjectStore> | undefined;

  constructor(options: DeferredStoreOptions) {
    this.location = options.location;
    this.#load = options.load;
    this.retention = options.retention ? this.#deferredRetention() : undefined;
  }

  async create(options?: StoreCallOptions): Promise<void> {
    return (await this.#store()).create(options);
  }

  async put(kind: ObjectKind, name: string, data: ObjectBody, options?: PutOptions): Promise<void> {
    return (await this.#store()).put(kind, name, data, options);
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options?: GetOptions,
  ): Promise<Buffer> {
    return (await this.#store()).get(kind, name, range, options);
  }

  async stat(
    kind: ObjectKind,
    name: string,
    options?: StoreCallOptions,
  ): Promise<ObjectInfo | undefined> {
    return (await this.#store()).stat(kind, name, options);
  }

  async *list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    yield* (await this.#store()).list(kind, options);
  }

  async delete(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<void> {
    return (await this.#store()).delete(kind, name, options);
  }

  async close(): Promise<void> {
    if (this.#inner === undefined) return;
    const inner = await this.#inner.catch(() => undefined);
    await inner?.close();
  }

  #store(): Promise<ObjectStore> {
    this.#inner ??= this.#load();
    return this.#inner;
  }

  async #retentionOf(): Promise<ObjectRetention> {
    const inner = await this.#store();
    if (!inner.retention)
      throw new Error(`${this.location}: the loaded store lacks object lock support`);
    return inner.retention;
  }

  #deferredRetention(): ObjectRetention {
    return {
      prepare: async (options?: StoreCallOptions) => (await this.#retentionOf()).prepare(options),
      get: async (kind: ObjectKind, name: string, options?: StoreCallOptions) =>
        (await this.#retentionOf()).get(kind, name, options),
      extend: async (
        kind: ObjectKind,
        name: string,
        retention: Retention,
        options?: StoreCallOptions,
      ) => (await this.#retentionOf()).extend(kind, name, retention, options),
    };
  }
}
