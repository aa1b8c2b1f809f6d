/**
 * ObjectLock: how a repository with object lock writes, extends and deletes objects
 * (repository-format.md, "Object lock"). It keeps a ledger of the retain-until dates it knows —
 * set by this process, or read from storage — as lower bounds (compliance retention never
 * shortens), so each object's date is read from storage at most once per process.
 */
import {
  HoldfastError,
  isHoldfastError,
  mapLimit,
  throwIfAborted,
  type Clock,
  type Logger,
} from '../../core/index.js';
import {
  describeObject,
  type ObjectKind,
  type ObjectRetention,
  type ObjectStore,
  type Retention,
} from '../../storage/index.js';
import type { RetentionPolicy } from './retention-policy.js';

/** Object reads and extensions in flight while extending. */
const EXTEND_CONCURRENCY = 16;

export interface DeleteOutcome {
  /** Set when the object was kept because it is locked until this date. */
  readonly retainedUntil?: Date;
}

export interface ExtendResult {
  /** Objects whose retention was read from storage. */
  readonly checked: number;
  readonly extended: number;
  readonly horizon: Date;
}

export type ObjectRef = readonly [kind: ObjectKind, name: string];

export class ObjectLock {
  readonly #ledger = new Map<string, number>();
  readonly #written = new Map<ObjectKind, Set<string>>();

  constructor(
    readonly policy: RetentionPolicy,
    private readonly clock: Clock,
  ) {}

  /** The retention a new object gets now. */
  newRetention(): Retention {
    return { mode: this.policy.mode, until: this.policy.horizon(this.clock.now()) };
  }

  /** Lock files are never retained: they are deleted minutes after they are written. */
  static isRetained(kind: ObjectKind): boolean {
    return kind !== 'lock';
  }

  /** Records a retain-until date known for an object (a lower bound); `written` by this process. */
  note(kind: ObjectKind, name: string, until: Date, written = false): void {
    if (written) {
      let names = this.#written.get(kind);
      if (!names) this.#written.set(kind, (names = new Set()));
      names.add(name);
    }
    const key = `${kind}/${name}`;
    const ms = until.getTime();
    if ((this.#ledger.get(key) ?? 0) < ms) this.#ledger.set(key, ms);
  }

  /** Names of the objects of `kind` this process wrote. */
  written(kind: ObjectKind): readonly string[] {
    return [...(this.#written.get(kind) ?? [])];
  }

  known(kind: ObjectKind, name: string): Date | undefined {
    const ms = this.#ledger.get(`${kind}/${name}`);
    return ms === undefined ? undefined : new Date(ms);
  }

  /**
   * Makes every object in `objects` retained at least until the horizon of a snapshot written
   * now, extending those that fall short to exactly that horizon (a generation boundary).
   * Objects this process already knows to last long enough cost no request. A missing object is
   * reported through `logger` and skipped: `check` reports what it means.
   */
  async extend(
    store: ObjectStore,
    objects: Iterable<ObjectRef>,
    logger: Logger,
    signal?: AbortSignal,
  ): Promise<ExtendResult> {
    const retention = requireRetention(store);
    const horizon = this.policy.horizon(this.clock.now());
    const target: Retention = { mode: this.policy.mode, until: horizon };
    const seen = new Set<string>();
    const todo = [...objects].filter(([kind, name]) => {
      const key = `${kind}/${name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      const known = this.#ledger.get(key);
      return known === undefined || known < horizon.getTime();
    });
    let checked = 0;
    let extended = 0;
    const opt = signal ? { signal } : {};
    await mapLimit(todo, EXTEND_CONCURRENCY, async ([kind, name]) => {
      throwIfAborted(signal);
      let current: Retention | undefined;
      if (this.known(kind, name) === undefined) {
        try {
          current = await retention.get(kind, name, opt);
        } catch (err) {
          if (!isHoldfastError(err, 'NOT_FOUND')) throw err;
          logger.warn(`${describeObject(kind, name)} is missing; its retention cannot be extended`);
          return;
        }
        checked++;
        if (current) this.note(kind, name, current.until);
        if (current && current.until.getTime() >= horizon.getTime()) return;
      }
      await retention.extend(kind, name, target, opt);
      this.note(kind, name, horizon);
      extended++;
    });
    return { checked, extended, horizon };
  }

  /** The object's retain-until date when it is still in the future, else undefined. */
  async retainedUntil(
    store: ObjectStore,
    kind: ObjectKind,
    name: string,
    signal?: AbortSignal,
  ): Promise<Date | undefined> {
    if (!ObjectLock.isRetained(kind)) return undefined;
    const now = this.clock.now().getTime();
    const known = this.#ledger.get(`${kind}/${name}`);
    if (known !== undefined && known > now) return new Date(known);
    const current = await readRetention(
      requireRetention(store),
      kind,
      name,
      signal ? { signal } : {},
    );
    if (current === 'missing' || !current) return undefined;
    this.note(kind, name, current.until);
    return current.until.getTime() > now ? current.until : undefined;
  }

  /**
   * Deletes an object unless it is retained. Never tries to remove a locked object: its date is
   * checked first, and a deletion refused anyway (a clock behind the service's) is reported as
   * retained too. A missing object counts as deleted.
   */
  async deleteUnlessRetained(
    store: ObjectStore,
    kind: ObjectKind,
    name: string,
    signal?: AbortSignal,
  ): Promise<DeleteOutcome> {
    const opt = signal ? { signal } : {};
    if (!ObjectLock.isRetained(kind)) {
      await store.delete(kind, name, opt);
      return {};
    }
    const retention = requireRetention(store);
    const now = this.clock.now().getTime();
    const known = this.#ledger.get(`${kind}/${name}`);
    if (known !== undefined && known > now) return { retainedUntil: new Date(known) };
    const current = await readRetention(retention, kind, name, opt);
    if (current === 'missing') return {};
    if (current) this.note(kind, name, current.until);
    if (current && current.until.getTime() > now) return { retainedUntil: current.until };
    try {
      await store.delete(kind, name, opt);
      return {};
    } catch (err) {
      if (!isHoldfastError(err, 'STORAGE_FAILED')) throw err;
      const again = await readRetention(retention, kind, name, opt).catch(() => undefined);
      if (again && again !== 'missing') return { retainedUntil: again.until };
      throw err;
    }
  }
}

async function readRetention(
  retention: ObjectRetention,
  kind: ObjectKind,
  name: string,
  opt: { signal?: AbortSignal },
): Promise<Retention | undefined | 'missing'> {
  try {
    return await retention.get(kind, name, opt);
  } catch (err) {
    if (isHoldfastError(err, 'NOT_FOUND')) return 'missing';
    throw err;
  }
}

export function requireRetention(store: ObjectStore): ObjectRetention {
  if (store.retention) return store.retention;
  throw new HoldfastError(
    'STORAGE_FAILED',
    `the repository uses object lock, but its storage (${store.location}) does not support it`,
    { hint: 'object lock needs an S3 bucket with object lock enabled' },
  );
}
