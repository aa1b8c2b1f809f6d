/**
 * S3Store: an ObjectStore in an S3 bucket (AWS, Ceph RGW, MinIO, ...), keys as in s3-keys.ts.
 *
 * Two modes, chosen once per store from the bucket's versioning status:
 * - Plain bucket: put is `PutObject` with `If-None-Match: *`, which the service turns into 412
 *   when the key exists (write-once without a read first); delete removes the key.
 * - Versioned bucket (every object-locked bucket is one): some services (Ceph RGW) ignore
 *   `If-None-Match` on versioned buckets, and a plain delete only hides a key behind a delete
 *   marker. So the object stored under a key is its **oldest** version: delete markers and newer
 *   versions are ignored by get, stat and list (holdfast never writes a second version on
 *   purpose: objects are write-once), put succeeds only if its version is the oldest, and delete
 *   removes every version. This is also what makes an attacker's overwrite, truncation or plain
 *   delete of a locked object harmless (repository-format.md, "Object lock").
 *
 * Concurrency is bounded by `connections` (requests in flight, and sockets per agent).
 */
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { HoldfastError, Semaphore, throwIfAborted } from '../../core/index.js';
import { assertValidObjectName, describeObject } from '../object-name.js';
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
import { readBodyInto, readBodyTo } from '../body-reader.js';
import {
  assertValidRange,
  objectExists,
  objectNotFound,
  rangePastEnd,
  storeClosed,
} from '../store-errors.js';
import { createS3Client, type S3ClientSettings } from './s3-client.js';
import { isMissing, s3Error, serviceCode, statusOf } from './s3-errors.js';
import { S3Keys } from './s3-keys.js';
import { putBody, signPayloadHash } from './s3-put-body.js';
import type { S3Location } from './s3-location.js';
import { S3Retention } from './s3-retention.js';
import { S3Versions } from './s3-versions.js';

export interface S3StoreOptions extends Partial<Omit<S3ClientSettings, 'endpoint'>> {
  readonly location: S3Location;
}

export class S3Store implements ObjectStore {
  readonly location: string;
  readonly bucket: string;
  readonly retention: ObjectRetention;
  readonly #client: S3Client;
  readonly #destroy: () => void;
  readonly #keys: S3Keys;
  readonly #limit: Semaphore;
  readonly #region: string;
  readonly #customEndpoint: boolean;
  readonly #versions: S3Versions;
  #versioned: Promise<boolean> | undefined;
  #closed = false;

  constructor(options: S3StoreOptions) {
    const { location } = options;
    this.location = location.display;
    this.bucket = location.bucket;
    this.#keys = new S3Keys(location.prefix);
    this.#region = options.region ?? 'us-east-1';
    this.#customEndpoint = location.endpoint !== undefined;
    const connections = Math.max(1, options.connections ?? 5);
    this.#limit = new Semaphore(connections);
    const sdk = createS3Client({
      endpoint: location.endpoint,
      region: this.#region,
      credentials: options.credentials,
      profile: options.profile,
      caCertificates: options.caCertificates,
      connections,
      requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
    });
    this.#client = sdk.client;
    this.#destroy = () => sdk.destroy();
    this.#versions = new S3Versions({
      bucket: this.bucket,
      location: this.location,
      keys: this.#keys,
      send: (command, signal, action) => this.send(command, signal, action),
      request: (command, signal) => this.#request(command, signal),
    });
    this.retention = new S3Retention({
      bucket: this.bucket,
      location: this.location,
      request: (command, signal) => this.#request(command, signal),
      key: (kind, name) => this.#keys.key(kind, name),
      version: (kind, name, signal) => this.#versionOf(kind, name, signal),
      createBucket: (signal, objectLock) => this.#createBucket(signal, objectLock),
      bucketChanged: () => {
        this.#versioned = undefined;
      },
      enter: (signal, kind, name) => this.#enter(signal, kind, name),
    });
  }

  async create(options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    this.#enter(signal);
    if (!(await this.#bucketExists(signal))) await this.#createBucket(signal, false);
    this.#versioned = undefined;
    throwIfAborted(signal);
  }

  async put(
    kind: ObjectKind,
    name: string,
    data: ObjectBody,
    options: PutOptions = {},
  ): Promise<void> {
    const { signal, retention } = options;
    this.#enter(signal, kind, name);
    const versioned = await this.#isVersioned(signal);
    // A duplicate version with retention could not be removed again: look before writing one.
    if (versioned && retention && (await this.#versions.findOldest(kind, name, signal, true)))
      throw objectExists(kind, name);
    const { body, length } = await putBody(data, options.sha256);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.#keys.key(kind, name),
      Body: body,
      ContentLength: length,
      ContentType: 'application/octet-stream',
      IfNoneMatch: '*',
      ...(retention && {
        ObjectLockMode: retention.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
        ObjectLockRetainUntilDate: retention.until,
      }),
    });
    if (options.sha256 !== undefined) signPayloadHash(command, options.sha256);
    // The SDK pipes a stream into the request without listening for its errors: a file body that
    // cannot be read (fileBodyError) aborts the request here and is what the put rejects with.
    const reading = new AbortController();
    let readFailure: Error | undefined;
    if (body instanceof Readable)
      body.once('error', (err: Error) => {
        readFailure = err;
        reading.abort(err);
      });
    const requestSignal =
      body instanceof Readable
        ? signal
          ? AbortSignal.any([signal, reading.signal])
          : reading.signal
        : signal;
    let versionId: string | undefined;
    try {
      ({ VersionId: versionId } = await this.#request<{ VersionId?: string }>(
        command,
        requestSignal,
      ));
    } catch (err) {
      if (readFailure !== undefined) throw readFailure;
      if (statusOf(err) === 412 || serviceCode(err) === 'PreconditionFailed')
        throw objectExists(kind, name);
      throw s3Error(err, `write ${describe(kind, name)}`, this.location, signal);
    }
    if (!versioned || versionId === undefined || versionId === 'null') return;
    // The service may have ignored If-None-Match: only the oldest version is the object.
    const oldest = await this.#versions.findOldest(kind, name, undefined, true);
    if (oldest?.versionId === versionId) return;
    // Another writer was first; our version is an invisible duplicate. Without retention it can go.
    if (!retention)
      await this.#versions.deleteVersion(kind, name, versionId, undefined).catch(() => undefined);
    throw objectExists(kind, name);
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: GetOptions = {},
  ): Promise<Buffer> {
    const { signal, into } = options;
    const sink = range === undefined ? options.sink : undefined;
    if (range) assertValidRange(range);
    this.#enter(signal, kind, name);
    if (range?.length === 0) {
      const info = await this.stat(kind, name, options);
      if (!info) throw objectNotFound(kind, name);
      if (range.offset > info.size) throw rangePastEnd(kind, name, range, info.size);
      return Buffer.alloc(0);
    }
    const versionId = await this.#versionOf(kind, name, signal);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.#keys.key(kind, name),
      ...(versionId !== undefined && { VersionId: versionId }),
      ...(range && { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
    });
    const action = `read ${describe(kind, name)}`;
    const cutShort = (): HoldfastError =>
      new HoldfastError(
        'STORAGE_UNAVAILABLE',
        `could not ${action} at ${this.location}: the answer was cut short`,
        { hint: 'the storage service is unreachable or overloaded; try again later' },
      );
    let bytes: Uint8Array;
    let contentRange: string | undefined;
    try {
      bytes = await this.#limit.run(async () => {
        throwIfAborted(signal);
        const res = await this.#client.send(command, signal ? { abortSignal: signal } : {});
        contentRange = res.ContentRange;
        // Read the body within the slot: the connection is busy until it is drained.
        const declared = res.ContentLength;
        if (sink !== undefined && res.Body instanceof Readable && declared !== undefined) {
          if ((await readBodyTo(res.Body, sink, declared)) < declared) throw cutShort();
          return new Uint8Array(0);
        }
        if (
          into !== undefined &&
          res.Body instanceof Readable &&
          declared !== undefined &&
          declared <= into.byteLength
        ) {
          const target = into.subarray(0, declared);
          if ((await readBodyInto(res.Body, target)) < declared) throw cutShort();
          return target;
        }
        return (await res.Body?.transformToByteArray()) ?? new Uint8Array(0);
      });
    } catch (err) {
      if (isMissing(err)) {
        this.#versions.forget(kind, name);
        throw objectNotFound(kind, name);
      }
      if (range && (statusOf(err) === 416 || serviceCode(err) === 'InvalidRange')) {
        const info = await this.stat(kind, name, options);
        if (!info) throw objectNotFound(kind, name);
        throw rangePastEnd(kind, name, range, info.size);
      }
      throw s3Error(err, action, this.location, signal);
    }
    throwIfAborted(signal);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (range && buffer.length !== range.length) {
      const total = Number(/\/(\d+)$/.exec(contentRange ?? '')?.[1] ?? buffer.length);
      throw rangePastEnd(kind, name, range, total);
    }
    return buffer;
  }

  async stat(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<ObjectInfo | undefined> {
    const { signal } = options;
    this.#enter(signal, kind, name);
    if (await this.#isVersioned(signal)) {
      const oldest = await this.#versions.findOldest(kind, name, signal);
      return oldest && { name, size: oldest.size };
    }
    const command = new HeadObjectCommand({ Bucket: this.bucket, Key: this.#keys.key(kind, name) });
    try {
      const res = await this.#request<{ ContentLength?: number }>(command, signal);
      return { name, size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw s3Error(err, `stat ${describe(kind, name)}`, this.location, signal);
    }
  }

  async *list(kind: ObjectKind, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const { signal } = options;
    this.#enter(signal);
    if (await this.#isVersioned(signal)) {
      yield* this.#versions.list(kind, signal);
      return;
    }
    const prefix = this.#keys.listPrefix(kind);
    let token: string | undefined;
    do {
      const command = new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        ...(token !== undefined && { ContinuationToken: token }),
      });
      const page = await this.send<ListObjectsV2CommandOutput>(
        command,
        signal,
        `list ${kind} objects`,
      );
      for (const o of page.Contents ?? []) {
        const name = o.Key === undefined ? undefined : this.#keys.nameOf(kind, o.Key);
        if (name !== undefined) yield { name, size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    this.#enter(signal, kind, name);
    if (!(await this.#isVersioned(signal))) {
      const command = new DeleteObjectCommand({
        Bucket: this.bucket,
        Key: this.#keys.key(kind, name),
      });
      await this.send(command, signal, `delete ${describe(kind, name)}`);
      return;
    }
    // Newest first and the object itself (the oldest version) last: if a version is locked, the
    // delete stops there and the object stays readable as it was.
    const { versions, deleteMarkers } = await this.#versions.keyVersions(kind, name, signal);
    this.#versions.forget(kind, name);
    for (const id of deleteMarkers) await this.#versions.deleteVersion(kind, name, id, signal);
    for (const v of versions) await this.#versions.deleteVersion(kind, name, v.versionId, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Requests in flight finish or fail; new ones are refused by #enter.
    await Promise.resolve();
    this.#destroy();
  }

  /** Sends one request within the connection limit, mapping failures to HoldfastErrors. */
  async send<T>(command: object, signal: AbortSignal | undefined, action: string): Promise<T> {
    try {
      return await this.#request<T>(command, signal);
    } catch (err) {
      throw s3Error(err, action, this.location, signal);
    }
  }

  /** Sends one request within the connection limit; failures are the SDK's own errors. */
  #request<T>(command: object, signal: AbortSignal | undefined): Promise<T> {
    return this.#limit.run(async () => {
      throwIfAborted(signal);
      return (await this.#client.send(
        command as Parameters<S3Client['send']>[0],
        signal ? { abortSignal: signal } : {},
      )) as T;
    });
  }

  #enter(signal: AbortSignal | undefined, kind?: ObjectKind, name?: string): void {
    if (this.#closed) throw storeClosed(this.location);
    if (kind !== undefined && name !== undefined) assertValidObjectName(kind, name);
    throwIfAborted(signal);
  }

  async #bucketExists(signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.#request(new HeadBucketCommand({ Bucket: this.bucket }), signal);
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw s3Error(err, `check bucket ${this.bucket}`, this.location, signal);
    }
  }

  async #createBucket(signal: AbortSignal | undefined, objectLock: boolean): Promise<void> {
    // AWS wants the region spelled out except in us-east-1; other services take the default.
    const constraint = !this.#customEndpoint && this.#region !== 'us-east-1';
    const command = new CreateBucketCommand({
      Bucket: this.bucket,
      ...(objectLock && { ObjectLockEnabledForBucket: true }),
      ...(constraint && {
        CreateBucketConfiguration: {
          LocationConstraint: this.#region as 'eu-west-1',
        },
      }),
    });
    try {
      await this.#request(command, signal);
    } catch (err) {
      // Created meanwhile by us (another process): fine. Owned by someone else: a real error.
      if (serviceCode(err) !== 'BucketAlreadyOwnedByYou')
        throw s3Error(err, `create bucket ${this.bucket}`, this.location, signal);
    }
    this.#versioned = undefined;
  }

  #isVersioned(signal: AbortSignal | undefined): Promise<boolean> {
    this.#versioned ??= this.#request<{ Status?: string }>(
      new GetBucketVersioningCommand({ Bucket: this.bucket }),
      signal,
    ).then(
      (res) => res.Status === 'Enabled' || res.Status === 'Suspended',
      (err: unknown) => {
        this.#versioned = undefined;
        // A missing bucket holds nothing (the next call asks again); a policy that does not let
        // us read the status leaves the plain mode, which is right for unversioned buckets.
        if (isMissing(err) || statusOf(err) === 403) return false;
        throw s3Error(err, 'read the versioning status of the bucket', this.location, signal);
      },
    );
    return this.#versioned;
  }

  /** The version id to read: the oldest version in a versioned bucket, undefined otherwise. */
  async #versionOf(
    kind: ObjectKind,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    if (!(await this.#isVersioned(signal))) return undefined;
    const oldest = await this.#versions.findOldest(kind, name, signal);
    if (!oldest) throw objectNotFound(kind, name);
    return oldest.versionId;
  }
}

function describe(kind: ObjectKind, name: string): string {
  return describeObject(kind, name);
}
