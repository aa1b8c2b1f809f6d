/**
 * openStore: turns a repository location into an ObjectStore. One switch on the scheme; each new
 * backend adds a case here and nowhere else.
 *
 *   /srv/repo, ./repo, local:/srv/repo   LocalStore at the absolute path
 *   memory:, memory:NAME                 MemoryStore shared by every open of the same location
 *                                        for the life of the process (tests, dry runs)
 *   rest:http[s]://[USER:PASS@]HOST:PORT/[PREFIX/]
 *                                        RestStore on a holdfast repository server, retried
 *   s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX], s3:BUCKET[/PREFIX]
 *                                        S3Store (s3/s3-location.ts), retried
 *
 * With upload or download limits, the store is wrapped in a RateLimitStore (inside the retries,
 * so every attempt is charged). Network stores are retried with RetryingStore's defaults unless
 * `retries` says otherwise; `onRetry` hears about each retry (the CLI prints a warning).
 */
import { resolve } from 'node:path';
import { HoldfastError } from '../core/index.js';
import { LocalStore } from './local/local-store.js';
import { MemoryStore, type MemoryObjects } from './memory/memory-store.js';
import type { ObjectStore } from './object-store.js';
import { RetryingStore, type RetryEvent, type RetryOptions } from './decorators/retrying-store.js';
import { RestStore } from './rest/rest-store.js';
import { RateLimitStore } from './decorators/rate-limit-store.js';
import type { S3Credentials } from './s3/s3-client.js';
import { parseS3Location } from './s3/s3-location.js';
import { DeferredStore } from './decorators/deferred-store.js';

/** Backends on the roadmap, so their locations get "not available yet" rather than "unknown". */
const PLANNED = new Set(['sftp', 'b2', 'azure', 'gs', 'swift', 'rclone']);

const memoryRepositories = new Map<string, MemoryObjects>();

/** Settings of network backends; local and memory stores ignore them. */
export interface StoreOptions {
  /** PEM certificates to trust besides the system's, for TLS connections (--cacert). */
  readonly caCert?: string | Buffer;
  /** For rest: URLs without credentials (HOLDFAST_REST_USERNAME / HOLDFAST_REST_PASSWORD). */
  readonly restUsername?: string;
  readonly restPassword?: string;
  /** For s3: undefined means the AWS SDK's default chain (profiles, SSO, instance roles). */
  readonly s3Credentials?: S3Credentials;
  readonly s3Profile?: string;
  /** For s3; default us-east-1. */
  readonly s3Region?: string;
  /** Requests in flight at once (network backends; --connections). */
  readonly connections?: number;
  /** Bytes per second (--limit-upload / --limit-download); any backend. */
  readonly uploadBytesPerSecond?: number;
  readonly downloadBytesPerSecond?: number;
  /** Retries of a failed request before the operation fails (--storage-retries); default 7. */
  readonly retries?: number;
  /** Called before each retry's delay (network backends). */
  readonly onRetry?: (event: RetryEvent) => void;
}

export function openStore(location: string, options: StoreOptions = {}): ObjectStore {
  const up = options.uploadBytesPerSecond ?? 0;
  const down = options.downloadBytesPerSecond ?? 0;
  const limited = (store: ObjectStore): ObjectStore =>
    up > 0 || down > 0
      ? new RateLimitStore(store, { uploadBytesPerSecond: up, downloadBytesPerSecond: down })
      : store;
  return openBackend(location, options, limited);
}

/**
 * Whether a location names network storage (rest:, s3:), where a local metadata cache saves
 * downloads; local paths and memory: are as fast as a cache would be.
 */
export function isRemoteLocation(location: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]+):/is.exec(location)?.[1]?.toLowerCase();
  return scheme === 'rest' || scheme === 's3';
}

function openBackend(
  location: string,
  options: StoreOptions,
  limited: (store: ObjectStore) => ObjectStore,
): ObjectStore {
  if (location.trim() === '') {
    throw new HoldfastError('USAGE', 'repository location is empty', {
      hint: 'give a path, or a location such as local:/srv/backup',
    });
  }
  // Two or more letters, so a Windows drive letter ("C:\repo") stays a path.
  const match = /^([a-z][a-z0-9+.-]+):(.*)$/is.exec(location);
  if (!match) return limited(new LocalStore(resolve(location)));
  const scheme = (match[1] ?? '').toLowerCase();
  const rest = match[2] ?? '';
  switch (scheme) {
    case 'local':
      if (rest === '')
        throw new HoldfastError('USAGE', 'local: needs a path, e.g. local:/srv/backup');
      return limited(new LocalStore(resolve(rest)));
    case 'memory': {
      const key = `memory:${rest}`;
      let objects = memoryRepositories.get(key);
      if (!objects) memoryRepositories.set(key, (objects = new Map<string, Buffer>()));
      // A new handle per open over shared contents: closing one handle leaves the others usable.
      return new MemoryStore({ location: key, objects });
    }
    case 'rest':
      return retrying(
        limited(
          new RestStore(rest, {
            ...(options.caCert !== undefined && { caCert: options.caCert }),
            ...(options.restUsername !== undefined && { username: options.restUsername }),
            ...(options.restPassword !== undefined && { password: options.restPassword }),
            ...(options.connections !== undefined && { connections: options.connections }),
          }),
        ),
        options,
      );
    case 's3': {
      const s3Location = parseS3Location(rest);
      // The AWS SDK is loaded only when the repository is used (see DeferredStore).
      const s3 = new DeferredStore({
        location: s3Location.display,
        retention: true,
        load: async () => {
          const { S3Store } = await import('./s3/index.js');
          return new S3Store({
            location: s3Location,
            ...(options.s3Region !== undefined && { region: options.s3Region }),
            ...(options.s3Credentials && { credentials: options.s3Credentials }),
            ...(options.s3Profile !== undefined && { profile: options.s3Profile }),
            ...(options.caCert !== undefined && { caCertificates: options.caCert.toString() }),
            ...(options.connections !== undefined && { connections: options.connections }),
          });
        },
      });
      return retrying(limited(s3), options);
    }
    default:
      throw unavailableBackend(scheme);
  }
}

function retrying(store: ObjectStore, options: StoreOptions): RetryingStore {
  const retry: RetryOptions = {
    ...(options.retries !== undefined && { maxAttempts: options.retries + 1 }),
    ...(options.onRetry && { onRetry: options.onRetry }),
  };
  return new RetryingStore(store, retry);
}

function unavailableBackend(scheme: string): HoldfastError {
  if (PLANNED.has(scheme)) {
    return new HoldfastError('USAGE', `storage backend "${scheme}" is not available yet`, {
      hint: 'use a local path (local:PATH) for now',
    });
  }
  return new HoldfastError('USAGE', `unknown storage backend "${scheme}"`, {
    hint: 'for a local path that contains a colon, write local:PATH or ./PATH',
  });
}
