/**
 * ReadOnlyStore: a store for restore, check and copy-source use that cannot change the
 * repository, whatever the code above it does. Reading and writing are separate capabilities
 * (Kopia's model); create is refused too, since it writes directories or buckets.
 */
import { HoldfastError } from '../../core/index.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectFiles,
  ObjectBody,
  ObjectKind,
  ObjectRetention,
  ObjectStore,
  GetOptions,
  StoreCallOptions,
} from '../object-store.js';

export class ReadOnlyStore implements ObjectStore {
  readonly location: string;
  /** Reading retention dates is allowed; setting or extending them is not. */
  readonly retention: ObjectRetention | undefined;
  readonly files: ObjectFiles | undefined;
  readonly #inner: ObjectStore;

  constructor(inner: ObjectStore) {
    this.#inner = inner;
    this.location = inner.location;
    this.files = inner.files;
    const retention = inner.retention;
    this.retention = retention && {
      prepare: () => Promise.reject(readOnly(this.location)),
      get: (kind, name, options) => retention.get(kind, name, options),
      extend: () => Promise.reject(readOnly(this.location)),
    };
  }

  create(_options?: StoreCallOptions): Promise<void> {
    return Promise.reject(readOnly(this.location));
  }

  put(
    _kind: ObjectKind,
    _name: string,
    _data: ObjectBody,
    _options?: StoreCallOptions,
  ): Promise<void> {
    return Promise.reject(readOnly(this.location));
  }

  get(kind: ObjectKind, name: string, range?: ByteRange, options?: GetOptions): Promise<Buffer> {
    return this.#inner.get(kind, name, range, options);
  }

  stat(
    kind: ObjectKind,
    name: string,
    options?: StoreCallOptions,
  ): Promise<ObjectInfo | undefined> {
    return this.#inner.stat(kind, name, options);
  }

  list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    return this.#inner.list(kind, options);
  }

  delete(_kind: ObjectKind, _name: string, _options?: StoreCallOptions): Promise<void> {
    return Promise.reject(readOnly(this.location));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

function readOnly(location: string): HoldfastError {
  return new HoldfastError('STORAGE_FAILED', `repository opened read-only (${location})`, {
    hint: 'this operation writes to the repository; open it without read-only mode',
  });
}
