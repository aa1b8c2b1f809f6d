/**
 * RateLimitStore: caps the bytes per second a store uploads (put) and downloads (get), for
 * `--limit-upload` / `--limit-download`. One token bucket per direction, shared by every call of
 * the store, so parallel transfers share the budget. A transfer larger than the bucket borrows:
 * it goes ahead and the calls after it wait until the debt is paid, which keeps the average rate
 * without splitting requests. Other calls (stat, list, delete) are not limited.
 */
import { throwIfAborted } from '../../core/index.js';
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
import { bodyLength } from '../object-store.js';
import { sleep, type Sleep } from './backoff.js';

export interface RateLimits {
  /** Bytes per second for puts; undefined or 0 for no limit. */
  readonly uploadBytesPerSecond?: number;
  /** Bytes per second for gets; undefined or 0 for no limit. */
  readonly downloadBytesPerSecond?: number;
  /** Injectable for tests. */
  readonly now?: () => number;
  readonly sleep?: Sleep;
}

/** A token bucket holding up to one second of budget; the balance may go negative (debt). */
export class ByteRate {
  #balance: number;
  #last: number;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly wait: Sleep = sleep,
  ) {
    this.#balance = bytesPerSecond;
    this.#last = now();
  }

  /** Waits until `bytes` fit the rate. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const t = this.now();
    this.#balance = Math.min(
      this.bytesPerSecond,
      this.#balance + ((t - this.#last) / 1000) * this.bytesPerSecond,
    );
    this.#last = t;
    this.#balance -= bytes;
    if (this.#balance < 0) await this.wait((-this.#balance / this.bytesPerSecond) * 1000, signal);
    throwIfAborted(signal);
  }
}

export class RateLimitStore implements ObjectStore {
  readonly location: string;
  readonly retention: ObjectRetention | undefined;
  readonly #inner: ObjectStore;
  readonly #upload: ByteRate | undefined;
  readonly #download: ByteRate | undefined;

  constructor(inner: ObjectStore, limits: RateLimits) {
    this.#inner = inner;
    this.location = inner.location;
    this.retention = inner.retention;
    const rate = (bps: number | undefined) =>
      bps !== undefined && bps > 0 ? new ByteRate(bps, limits.now, limits.sleep) : undefined;
    this.#upload = rate(limits.uploadBytesPerSecond);
    this.#download = rate(limits.downloadBytesPerSecond);
  }

  create(options?: StoreCallOptions): Promise<void> {
    return this.#inner.create(options);
  }

  async put(kind: ObjectKind, name: string, data: ObjectBody, options?: PutOptions): Promise<void> {
    await this.#upload?.take(bodyLength(data), options?.signal);
    return this.#inner.put(kind, name, data, options);
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options?: GetOptions,
  ): Promise<Buffer> {
    // The size is known up front for ranges (pack reads, the bulk of a restore); whole objects
    // are charged once they arrived.
    if (range) await this.#download?.take(range.length, options?.signal);
    const sink = options?.sink;
    if (range || sink === undefined || this.#download === undefined) {
      const data = await this.#inner.get(kind, name, range, options);
      if (!range) await this.#download?.take(data.length, options?.signal);
      return data;
    }
    // Written to a sink: charged for what reached it, or what came back instead.
    let sunk = 0;
    const counting = {
      write: (chunk: Uint8Array, offset: number): Promise<void> => {
        sunk = Math.max(sunk, offset + chunk.length);
        return sink.write(chunk, offset);
      },
    };
    const data = await this.#inner.get(kind, name, range, { ...options, sink: counting });
    await this.#download.take(data.length + sunk, options?.signal);
    return data;
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

  delete(kind: ObjectKind, name: string, options?: StoreCallOptions): Promise<void> {
    return this.#inner.delete(kind, name, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
