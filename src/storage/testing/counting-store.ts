/**
 * CountingStore: a testing decorator that counts the calls reaching the store it wraps, per
 * operation and object kind, so tests can show which objects a cache kept from being fetched.
 */
import type {
  ByteRange,
  ObjectInfo,
  ObjectBody,
  ObjectKind,
  ObjectRetention,
  ObjectStore,
  PutOptions,
  GetOptions,
  StoreCallOptions,
} from '../object-store.js';
import type { StoreOperation } from '../store-operation.js';

export class CountingStore implements ObjectStore {
  readonly location: string;
  readonly retention: ObjectRetention | undefined;
  readonly #counts = new Map<string, number>();
  readonly #bytesRead = new Map<ObjectKind, number>();

  constructor(private readonly inner: ObjectStore) {
    this.location = inner.location;
    this.retention = inner.retention;
  }

  /** Calls of `operation` on objects of `kind` since the last reset. */
  count(operation: StoreOperation, kind: ObjectKind): number {
    return this.#counts.get(`${operation} ${kind}`) ?? 0;
  }

  /** Calls of `get` for the object `kind`/`name` since the last reset. */
  gets(kind: ObjectKind, name: string): number {
    return this.#counts.get(`get ${kind} ${name}`) ?? 0;
  }

  /** Bytes returned by `get` for objects of `kind` since the last reset. */
  bytesRead(kind: ObjectKind): number {
    return this.#bytesRead.get(kind) ?? 0;
  }

  reset(): void {
    this.#counts.clear();
    this.#bytesRead.clear();
  }

  create(options?: StoreCallOptions): Promise<void> {
    return this.inner.create(options);
  }

  put(kind: ObjectKind, name: string, data: ObjectBody, options?: PutOptions): Promise<void> {
    this.#note('put', kind);
    return this.inner.put(kind, name, data, options);
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options?: GetOptions,
  ): Promise<Buffer> {
    this.#note('get', kind);
    this.#counts.set(`get ${kind} ${name}`, this.gets(kind, name) + 1);
    const data = await this.inner.get(kind, name, range, options);
    this.#bytesRead.set(kind, this.bytesRead(kind) + data.length);
    return data;
  }

  stat(
    kind: ObjectKind,
    name: string,
    options?: StoreCallOptions,
  ): Promise<ObjectInfo | undefined> {
    this.#note('stat', kind);
    return this.inner.stat(kind, name, options);
  }

  list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    this.#note('list', kind);
    return this.inner.list(kind, options);
  }

  delete(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<void> {
    this.#note('delete', kind);
    return this.inner.delete(kind, name, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #note(operation: StoreOperation, kind: ObjectKind): void {
    const key = `${operation} ${kind}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
}
