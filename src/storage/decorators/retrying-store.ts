/**
 * RetryingStore: retries transient storage failures (see transient-error.ts) with exponential
 * backoff and full jitter, so that backends report each failure once and stay simple.
 *
 * Ambiguous puts: a put that failed transiently may still have been stored (a timeout after the
 * service committed). Objects are content-addressed, so re-putting the same name means re-putting
 * the same bytes, and an OBJECT_EXISTS on a later attempt most likely means our own earlier
 * attempt landed. It is taken as success only if `stat` reports exactly `data.length` bytes; any
 * other size is a genuine conflict and surfaces as OBJECT_EXISTS.
 *
 * Listing: a failed listing restarts from the beginning, and names already yielded are skipped,
 * keeping "each object once" (the approach of restic's retry backend).
 */
import { HoldfastError, describeError, isHoldfastError, throwIfAborted } from '../../core/index.js';
import { describeObject } from '../object-name.js';
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
import { bodyLength } from '../object-store.js';
import type { StoreOperation } from '../store-operation.js';
import { fullJitterDelay, sleep, type Sleep } from './backoff.js';
import { isTransientError } from './transient-error.js';

export interface RetryEvent {
  readonly operation: StoreOperation;
  readonly kind: ObjectKind | undefined;
  readonly name: string | undefined;
  /** The attempt that just failed, from 1. */
  readonly attempt: number;
  /** Attempts in all, the first included: the operation fails after this many. */
  readonly maxAttempts: number;
  /** How long until the next attempt. */
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  /** Total attempts including the first; default 8. */
  readonly maxAttempts?: number;
  /** Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Default 10 s. */
  readonly maxDelayMs?: number;
  readonly sleep?: Sleep;
  /** Uniform in [0, 1); default Math.random. */
  readonly random?: () => number;
  readonly onRetry?: (event: RetryEvent) => void;
  readonly isTransient?: (err: unknown) => boolean;
}

interface Target {
  readonly operation: StoreOperation;
  readonly kind?: ObjectKind;
  readonly name?: string;
  readonly signal: AbortSignal | undefined;
}

export class RetryingStore implements ObjectStore {
  readonly location: string;
  readonly retention: ObjectRetention | undefined;
  readonly files: ObjectFiles | undefined;
  readonly #inner: ObjectStore;
  readonly #maxAttempts: number;
  readonly #policy: { baseDelayMs: number; maxDelayMs: number };
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;
  readonly #isTransient: (err: unknown) => boolean;

  constructor(inner: ObjectStore, options: RetryOptions = {}) {
    this.#inner = inner;
    this.location = inner.location;
    this.files = inner.files;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.#policy = {
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 10_000,
    };
    this.#sleep = options.sleep ?? sleep;
    this.#random = options.random ?? Math.random;
    this.#onRetry = options.onRetry;
    this.#isTransient = options.isTransient ?? isTransientError;
    this.retention = inner.retention && this.#retryingRetention(inner.retention);
  }

  create(options: StoreCallOptions = {}): Promise<void> {
    return this.#retry({ operation: 'create', signal: options.signal }, () =>
      this.#inner.create(options),
    );
  }

  put(kind: ObjectKind, name: string, data: ObjectBody, options: PutOptions = {}): Promise<void> {
    let ambiguous = false;
    return this.#retry({ operation: 'put', kind, name, signal: options.signal }, async () => {
      try {
        await this.#inner.put(kind, name, data, options);
      } catch (err) {
        if (ambiguous && isHoldfastError(err, 'OBJECT_EXISTS')) {
          const info = await this.#inner.stat(kind, name, options);
          if (info?.size === bodyLength(data)) return;
        }
        if (this.#isTransient(err)) ambiguous = true;
        throw err;
      }
    });
  }

  get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: GetOptions = {},
  ): Promise<Buffer> {
    const target = { operation: 'get', kind, name, signal: options.signal } as const;
    return this.#retry(target, () => this.#inner.get(kind, name, range, options));
  }

  stat(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<ObjectInfo | undefined> {
    const target = { operation: 'stat', kind, name, signal: options.signal } as const;
    return this.#retry(target, () => this.#inner.stat(kind, name, options));
  }

  async *list(kind: ObjectKind, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const target = { operation: 'list', kind, signal: options.signal } as const;
    const yielded = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const info of this.#inner.list(kind, options)) {
          if (yielded.has(info.name)) continue;
          yielded.add(info.name);
          yield info;
        }
        return;
      } catch (err) {
        await this.#afterFailure(target, attempt, err);
      }
    }
  }

  delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    const target = { operation: 'delete', kind, name, signal: options.signal } as const;
    return this.#retry(target, () => this.#inner.delete(kind, name, options));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Object lock calls, retried like the calls they resemble (prepare ~ create, extend ~ put). */
  #retryingRetention(inner: ObjectRetention): ObjectRetention {
    return {
      prepare: (o = {}) =>
        this.#retry({ operation: 'create', signal: o.signal }, () => inner.prepare(o)),
      get: (kind, name, o = {}) =>
        this.#retry({ operation: 'stat', kind, name, signal: o.signal }, () =>
          inner.get(kind, name, o),
        ),
      extend: (kind, name, retention, o = {}) =>
        this.#retry({ operation: 'put', kind, name, signal: o.signal }, () =>
          inner.extend(kind, name, retention, o),
        ),
    };
  }

  async #retry<T>(target: Target, attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        await this.#afterFailure(target, n, err);
      }
    }
  }

  /** Rethrows what must not be retried, otherwise reports and waits out the backoff. */
  async #afterFailure(target: Target, attempt: number, err: unknown): Promise<void> {
    if (!this.#isTransient(err)) throw err;
    if (attempt >= this.#maxAttempts) throw this.#exhausted(target, attempt, err);
    throwIfAborted(target.signal);
    const delayMs = fullJitterDelay(this.#policy, attempt, this.#random);
    const { operation, kind, name } = target;
    const maxAttempts = this.#maxAttempts;
    this.#onRetry?.({ operation, kind, name, attempt, maxAttempts, delayMs, error: err });
    await this.#sleep(delayMs, target.signal);
  }

  /**
   * The error once the retries are spent: names the storage (its location, without secrets) and
   * the request, and keeps the last failure as the cause.
   */
  #exhausted(target: Target, attempts: number, err: unknown): HoldfastError {
    const { kind, name } = target;
    const what =
      kind === undefined ? 'storage' : name === undefined ? kind : describeObject(kind, name);
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    const message = `storage ${this.location} is unavailable: ${target.operation} ${what} failed after ${tries}: ${describeError(err)}`;
    const hint =
      (isHoldfastError(err) ? err.hint : undefined) ??
      'check that the storage service is running and reachable, then run the command again';
    return new HoldfastError('STORAGE_UNAVAILABLE', message, { hint, cause: err });
  }
}
