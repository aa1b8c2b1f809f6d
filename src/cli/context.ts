/**
 * Per-invocation state shared by the commands: global flags, the resolved repository location,
 * and output helpers (text or JSON) bound to the Io.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, HoldfastError, parseDuration, type Logger } from '../core/index.js';
import {
  openRepository,
  withLock,
  type AccessOptions,
  type Repository,
  type SnapshotEntry,
} from '../app/index.js';
import {
  findSnapshot,
  type LockMode,
  type RepositoryLock,
  type SnapshotFilter,
} from '../engine/index.js';
import type { StoreOptions } from '../storage/index.js';
import { s3StoreOptions, transferOptions, type TransferFlags } from './backend-flags.js';
import { parseCount } from './count-flag.js';
import { cacheRoot, type CacheFlags } from './cache-flags.js';
import type { Io } from './io.js';
import { readPassword, type PasswordFlags } from './password.js';
import { retryWarning } from './retry-warning.js';
import { xdgDir } from './xdg.js';

export interface GlobalFlags extends PasswordFlags, TransferFlags, CacheFlags {
  readonly repo?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly retryLock?: string;
  /** PEM file of CA certificates to trust for TLS backends (rest:, s3:). */
  readonly cacert?: string;
  /** Worker threads of a backup, restore or check (env HOLDFAST_THREADS). */
  readonly threads?: string;
}

/** Most worker threads --threads accepts: far beyond any gain, short of a typo's thousands. */
const MAX_THREADS = 256;

/** Where repositories live when neither --repo nor HOLDFAST_REPOSITORY says otherwise. */
export function defaultRepository(env: Io['env']): string {
  return join(xdgDir(env, 'XDG_DATA_HOME', '.local', 'share'), 'holdfast', 'repository');
}

export class Context {
  constructor(
    readonly io: Io,
    readonly flags: GlobalFlags,
  ) {}

  get json(): boolean {
    return this.flags.json === true;
  }

  get signal(): AbortSignal | undefined {
    return this.io.signal;
  }

  repositoryLocation(): string {
    const loc = this.flags.repo ?? this.io.env.HOLDFAST_REPOSITORY;
    if (loc !== undefined && loc.length === 0)
      throw new HoldfastError('USAGE', 'empty repository location');
    return loc ?? defaultRepository(this.io.env);
  }

  async password(purpose?: string): Promise<string> {
    return readPassword(this.io, this.flags, purpose);
  }

  /**
   * Opens the repository of --repo. `cache: false` bypasses the local metadata cache: check and
   * repair must see the repository's own objects, not copies of what they once were.
   */
  async open(options: { cache?: boolean } = {}): Promise<Repository> {
    const location = this.repositoryLocation();
    const password = await this.password();
    return openRepository(location, password, await this.accessOptions(options));
  }

  /** The local cache's root (--cache-dir, HOLDFAST_CACHE_DIR, ...); undefined with --no-cache. */
  cacheRoot(): string | undefined {
    return cacheRoot(this.flags, this.io.env);
  }

  /** Store settings, logger, signal and (unless `cache: false`) the cache root for openRepository. */
  async accessOptions(options: { cache?: boolean } = {}): Promise<AccessOptions> {
    const cacheDir = options.cache === false ? undefined : cacheRoot(this.flags, this.io.env);
    const workerThreads = this.workerThreads();
    return {
      store: await this.storeOptions(),
      ...(this.signal && { signal: this.signal }),
      logger: this.logger(),
      ...(cacheDir !== undefined && { cacheDir }),
      ...(workerThreads !== undefined && { workerThreads }),
    };
  }

  /** --threads, else HOLDFAST_THREADS; undefined leaves the default (one per core, ≤ 8). */
  workerThreads(): number | undefined {
    const flag = this.flags.threads;
    if (flag !== undefined) return parseCount(flag, '--threads', MAX_THREADS);
    return parseCount(this.io.env.HOLDFAST_THREADS, 'HOLDFAST_THREADS', MAX_THREADS);
  }

  /**
   * Backend settings from the global flags (--cacert, transfer limits, --storage-retries), the
   * AWS variables and HOLDFAST_REST_USERNAME / HOLDFAST_REST_PASSWORD; each retry is a warning.
   */
  async storeOptions(): Promise<StoreOptions> {
    const env = this.io.env;
    let caCert: Buffer | undefined;
    if (this.flags.cacert !== undefined) {
      try {
        caCert = await readFile(this.flags.cacert);
      } catch (err) {
        throw new HoldfastError(
          'CONFIG_INVALID',
          `cannot read --cacert ${this.flags.cacert}: ${describeError(err)}`,
        );
      }
    }
    return {
      ...s3StoreOptions(env),
      ...transferOptions(this.flags),
      ...(caCert && { caCert }),
      ...(env.HOLDFAST_REST_USERNAME !== undefined && { restUsername: env.HOLDFAST_REST_USERNAME }),
      ...(env.HOLDFAST_REST_PASSWORD !== undefined && { restPassword: env.HOLDFAST_REST_PASSWORD }),
      onRetry: (event) => this.warn(retryWarning(event)),
    };
  }

  /** Runs `fn` holding a shared or exclusive lock, honouring --retry-lock. */
  async locked<T>(
    repo: Repository,
    mode: LockMode,
    fn: (lock: RepositoryLock) => Promise<T>,
  ): Promise<T> {
    let retryMs: number | undefined;
    if (this.flags.retryLock !== undefined) {
      retryMs = parseDuration(this.flags.retryLock);
      if (retryMs === undefined)
        throw new HoldfastError('USAGE', `invalid --retry-lock "${this.flags.retryLock}"`, {
          hint: 'use e.g. 30s, 5m or 1h',
        });
    }
    return withLock(repo, mode, retryMs, this.signal, fn);
  }

  async snapshot(
    repo: Repository,
    ref: string,
    filter: SnapshotFilter = {},
  ): Promise<SnapshotEntry> {
    return findSnapshot(await repo.listSnapshots(this.signal), ref, filter);
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** One JSON document (or one JSON line when streaming). */
  emit(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value) + '\n');
  }

  /** Human messages go to stderr so stdout stays machine-readable. */
  info(text: string): void {
    if (!this.flags.quiet && !this.json) this.io.stderr.write(text + '\n');
  }

  warn(text: string): void {
    this.io.stderr.write(`warning: ${text}\n`);
  }

  logger(): Logger {
    return {
      warn: (m) => this.warn(m),
      info: (m) => this.info(m),
      debug: (m) => {
        if (this.flags.verbose) this.io.stderr.write(m + '\n');
      },
    };
  }
}
