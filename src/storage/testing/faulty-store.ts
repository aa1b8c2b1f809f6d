/**
 * FaultyStore: a testing decorator that makes a healthy store misbehave on purpose — fail chosen
 * calls, fail at random with a seeded generator, or answer slowly — to exercise retries, crash
 * handling and progress reporting without a flaky network.
 */
import { HoldfastError, throwIfAborted } from '../../core/index.js';
import { sleep, type Sleep } from '../decorators/backoff.js';
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
import { seededRandom } from './seeded-random.js';

export interface FaultRule {
  readonly operation: StoreOperation;
  /** 1-based numbers of the calls of `operation` that fail, counted across this store. */
  readonly calls?: readonly number[];
  /** Probability in [0, 1] that any call of `operation` fails, drawn from the seeded generator. */
  readonly probability?: number;
  /**
   * `before` (default): fail without touching the inner store. `after`: let the inner call
   * succeed, then fail — the ambiguous outcome of a timeout after the service committed.
   */
  readonly when?: 'before' | 'after';
  /** For `list`: fail after yielding this many objects instead of before the first. */
  readonly afterItems?: number;
  /** The error to throw; default a transient STORAGE_UNAVAILABLE. */
  readonly error?: () => unknown;
}

export interface FaultyStoreOptions {
  readonly rules?: readonly FaultRule[];
  /** Seed for `probability` rules; default 1. */
  readonly seed?: number;
  /** Added before every call. */
  readonly latencyMs?: number;
  readonly sleep?: Sleep;
}

export class FaultyStore implements ObjectStore {
  readonly location: string;
  /** Forwarded untouched: faults are injected into the object calls only. */
  readonly retention: ObjectRetention | undefined;
  readonly #inner: ObjectStore;
  readonly #rules: readonly FaultRule[];
  readonly #random: () => number;
  readonly #latencyMs: number;
  readonly #sleep: Sleep;
  readonly #calls = new Map<StoreOperation, number>();
  #injected = 0;

  constructor(inner: ObjectStore, options: FaultyStoreOptions = {}) {
    this.#inner = inner;
    this.location = inner.location;
    this.retention = inner.retention;
    this.#rules = options.rules ?? [];
    this.#random = seededRandom(options.seed ?? 1);
    this.#latencyMs = options.latencyMs ?? 0;
    this.#sleep = options.sleep ?? sleep;
  }

  /** How many calls of `operation` this store has seen, failed ones included. */
  calls(operation: StoreOperation): number {
    return this.#calls.get(operation) ?? 0;
  }

  /** How many failures were injected so far. */
  get injected(): number {
    return this.#injected;
  }

  create(options: StoreCallOptions = {}): Promise<void> {
    return this.#call('create', options, () => this.#inner.create(options));
  }

  put(kind: ObjectKind, name: string, data: ObjectBody, options: PutOptions = {}): Promise<void> {
    return this.#call('put', options, () => this.#inner.put(kind, name, data, options));
  }

  get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: GetOptions = {},
  ): Promise<Buffer> {
    return this.#call('get', options, () => this.#inner.get(kind, name, range, options));
  }

  stat(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<ObjectInfo | undefined> {
    return this.#call('stat', options, () => this.#inner.stat(kind, name, options));
  }

  async *list(kind: ObjectKind, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const rule = await this.#begin('list', options.signal);
    if (rule && rule.afterItems === undefined) throw this.#fail(rule);
    let yielded = 0;
    for await (const info of this.#inner.list(kind, options)) {
      if (rule && yielded === rule.afterItems) throw this.#fail(rule);
      yield info;
      yielded++;
    }
    if (rule && yielded === rule.afterItems) throw this.#fail(rule);
  }

  delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    return this.#call('delete', options, () => this.#inner.delete(kind, name, options));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #call<T>(
    operation: StoreOperation,
    options: StoreCallOptions,
    run: () => Promise<T>,
  ): Promise<T> {
    const rule = await this.#begin(operation, options.signal);
    if (rule && rule.when !== 'after') throw this.#fail(rule);
    const result = await run();
    if (rule) throw this.#fail(rule);
    return result;
  }

  /** Counts the call, waits the latency, and returns the rule that makes this call fail, if any. */
  async #begin(
    operation: StoreOperation,
    signal: AbortSignal | undefined,
  ): Promise<FaultRule | undefined> {
    const call = this.calls(operation) + 1;
    this.#calls.set(operation, call);
    if (this.#latencyMs > 0) await this.#sleep(this.#latencyMs, signal);
    throwIfAborted(signal);
    return this.#rules.find(
      (rule) =>
        rule.operation === operation &&
        ((rule.calls?.includes(call) ?? false) ||
          (rule.probability !== undefined && this.#random() < rule.probability)),
    );
  }

  #fail(rule: FaultRule): unknown {
    this.#injected++;
    return rule.error?.() ?? new HoldfastError('STORAGE_UNAVAILABLE', 'injected fault');
  }
}
