/**
 * RetainingStore: the store of a repository with object lock. Every put but a lock file's gets
 * the policy's retention, so no code path can write an unlocked object by forgetting to ask; a
 * delete checks retention first and refuses a locked object with STORAGE_FAILED naming its date
 * (deleting commands use ObjectLock.deleteUnlessRetained to skip and report instead).
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
  PutOptions,
  GetOptions,
  StoreCallOptions,
} from '../../storage/index.js';
import { describeObject } from '../../storage/index.js';
import { ObjectLock, requireRetention, type DeleteOutcome } from './object-lock.js';

export class RetainingStore implements ObjectStore {
  readonly location: string;
  readonly retention: ObjectRetention | undefined;
  readonly files: ObjectFiles | undefined;

  constructor(
    private readonly inner: ObjectStore,
    readonly lock: ObjectLock,
  ) {
    this.location = inner.location;
    this.files = inner.files;
    this.retention = inner.retention;
  }

  create(options?: StoreCallOptions): Promise<void> {
    return this.inner.create(options);
  }

  async put(
    kind: ObjectKind,
    name: string,
    data: ObjectBody,
    options: PutOptions = {},
  ): Promise<void> {
    if (!ObjectLock.isRetained(kind)) return this.inner.put(kind, name, data, options);
    requireRetention(this.inner);
    const retention = options.retention ?? this.lock.newRetention();
    await this.inner.put(kind, name, data, { ...options, retention });
    this.lock.note(kind, name, retention.until, true);
  }

  get(kind: ObjectKind, name: string, range?: ByteRange, options?: GetOptions): Promise<Buffer> {
    return this.inner.get(kind, name, range, options);
  }

  stat(
    kind: ObjectKind,
    name: string,
    options?: StoreCallOptions,
  ): Promise<ObjectInfo | undefined> {
    return this.inner.stat(kind, name, options);
  }

  list(kind: ObjectKind, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(kind, options);
  }

  /** Deletes unless retained; see ObjectLock.deleteUnlessRetained. */
  deleteUnlessRetained(
    kind: ObjectKind,
    name: string,
    signal?: AbortSignal,
  ): Promise<DeleteOutcome> {
    return this.lock.deleteUnlessRetained(this.inner, kind, name, signal);
  }

  async delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    const outcome = await this.deleteUnlessRetained(kind, name, options.signal);
    if (outcome.retainedUntil) {
      throw new HoldfastError(
        'STORAGE_FAILED',
        `${describeObject(kind, name)} is retained until ${outcome.retainedUntil.toISOString()} (object lock)`,
        { hint: 'locked objects cannot be deleted before their retain-until date' },
      );
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
