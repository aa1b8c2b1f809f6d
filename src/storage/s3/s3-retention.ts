/**
 * S3 Object Lock for an S3Store: retention is set per object version (PutObject's lock headers,
 * PutObjectRetention to extend) on the version the store reads, i.e. the oldest one. The bucket
 * must have object lock enabled and no default retention rule: lock files are written and
 * deleted every few minutes and must stay deletable.
 */
import {
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import { HoldfastError, throwIfAborted } from '../../core/index.js';
import { describeObject } from '../object-name.js';
import type { ObjectKind, ObjectRetention, Retention, StoreCallOptions } from '../object-store.js';
import { objectNotFound } from '../store-errors.js';
import { isMissing, s3Error, serviceCode, statusOf } from './s3-errors.js';

export interface S3RetentionHost {
  readonly bucket: string;
  readonly location: string;
  /** Sends a request within the store's connection limit; rejects with the SDK's error. */
  request<T>(command: object, signal: AbortSignal | undefined): Promise<T>;
  key(kind: ObjectKind, name: string): string;
  /** Version to address (versioned buckets); NOT_FOUND when the object is missing. */
  version(
    kind: ObjectKind,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined>;
  createBucket(signal: AbortSignal | undefined, objectLock: boolean): Promise<void>;
  bucketChanged(): void;
  enter(signal: AbortSignal | undefined, kind?: ObjectKind, name?: string): void;
}

export class S3Retention implements ObjectRetention {
  constructor(private readonly host: S3RetentionHost) {}

  async prepare(options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    const { host } = this;
    host.enter(signal);
    try {
      await host.request(new HeadBucketCommand({ Bucket: host.bucket }), signal);
    } catch (err) {
      if (!isMissing(err)) throw s3Error(err, 'check the bucket', host.location, signal);
      await host.createBucket(signal, true);
    }
    host.bucketChanged();
    let config: LockConfiguration | undefined;
    try {
      ({ ObjectLockConfiguration: config } = await host.request<{
        ObjectLockConfiguration?: LockConfiguration;
      }>(new GetObjectLockConfigurationCommand({ Bucket: host.bucket }), signal));
    } catch (err) {
      if (statusOf(err) !== 404 && serviceCode(err) !== 'ObjectLockConfigurationNotFoundError')
        throw s3Error(err, 'read the object lock configuration', host.location, signal);
    }
    if (config?.ObjectLockEnabled !== 'Enabled') {
      throw new HoldfastError(
        'STORAGE_FAILED',
        `bucket ${host.bucket} does not have object lock enabled`,
        {
          hint: 'object lock can only be enabled when a bucket is created: use a new bucket name, and "holdfast init" creates it with object lock',
        },
      );
    }
    if (config.Rule?.DefaultRetention) {
      throw new HoldfastError(
        'STORAGE_FAILED',
        `bucket ${host.bucket} has a default retention rule`,
        {
          hint: 'remove the default retention: holdfast sets retention on each object itself, and its lock files must stay deletable',
        },
      );
    }
    throwIfAborted(signal);
  }

  async get(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<Retention | undefined> {
    const { signal } = options;
    const { host } = this;
    host.enter(signal, kind, name);
    const versionId = await host.version(kind, name, signal);
    let res: { ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date };
    try {
      res = await host.request(
        new HeadObjectCommand({
          Bucket: host.bucket,
          Key: host.key(kind, name),
          ...(versionId !== undefined && { VersionId: versionId }),
        }),
        signal,
      );
    } catch (err) {
      if (isMissing(err)) throw objectNotFound(kind, name);
      const action = `read the retention of ${describeObject(kind, name)}`;
      throw s3Error(err, action, host.location, signal);
    }
    const until = res.ObjectLockRetainUntilDate;
    if (until === undefined || res.ObjectLockMode === undefined) return undefined;
    return { mode: res.ObjectLockMode === 'COMPLIANCE' ? 'compliance' : 'governance', until };
  }

  async extend(
    kind: ObjectKind,
    name: string,
    retention: Retention,
    options: StoreCallOptions = {},
  ): Promise<void> {
    const { signal } = options;
    const { host } = this;
    host.enter(signal, kind, name);
    const versionId = await host.version(kind, name, signal);
    const command = new PutObjectRetentionCommand({
      Bucket: host.bucket,
      Key: host.key(kind, name),
      ...(versionId !== undefined && { VersionId: versionId }),
      Retention: {
        Mode: retention.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
        RetainUntilDate: retention.until,
      },
    });
    try {
      await host.request(command, signal);
    } catch (err) {
      if (isMissing(err)) throw objectNotFound(kind, name);
      // Services refuse to shorten a retention (403 or 400): fine when it already lasts as long.
      const status = statusOf(err);
      if (status === 400 || status === 403) {
        const current = await this.get(kind, name, options);
        if (current && current.until.getTime() >= retention.until.getTime()) return;
      }
      const action = `extend the retention of ${describeObject(kind, name)}`;
      throw s3Error(err, action, host.location, signal);
    }
  }
}

interface LockConfiguration {
  readonly ObjectLockEnabled?: string;
  readonly Rule?: { readonly DefaultRetention?: unknown };
}
