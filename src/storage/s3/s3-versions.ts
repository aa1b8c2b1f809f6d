/**
 * The versions behind keys of a versioned bucket (S3Store's versioned mode): which version is an
 * object (its oldest), the listing of a kind by oldest versions, and the removal of versions.
 * The oldest version of each key read is remembered (VersionCache), so reading a pack many
 * times costs one version listing.
 */
import { ListObjectVersionsCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { describeObject } from '../object-name.js';
import type { ObjectInfo, ObjectKind } from '../object-store.js';
import { isMissing, s3Error } from './s3-errors.js';
import type { S3Keys } from './s3-keys.js';
import { VersionCache, type KeyVersion } from './version-cache.js';

/** Versions of one key, newest first, as ListObjectVersions returns them. */
export interface KeyVersions {
  readonly versions: KeyVersion[];
  readonly deleteMarkers: string[];
}

/** What S3Versions needs of its store. */
export interface S3VersionsContext {
  readonly bucket: string;
  readonly location: string;
  readonly keys: S3Keys;
  /** One request within the store's connection limit, failures mapped for `action`. */
  send<T>(command: object, signal: AbortSignal | undefined, action: string): Promise<T>;
  /** One request within the store's connection limit; failures are the SDK's own errors. */
  request<T>(command: object, signal: AbortSignal | undefined): Promise<T>;
}

export class S3Versions {
  readonly #bucket: string;
  readonly #location: string;
  readonly #keys: S3Keys;
  readonly #send: S3VersionsContext['send'];
  readonly #request: S3VersionsContext['request'];
  readonly #oldest = new VersionCache();

  constructor(context: S3VersionsContext) {
    this.#bucket = context.bucket;
    this.#location = context.location;
    this.#keys = context.keys;
    this.#send = (command, signal, action) => context.send(command, signal, action);
    this.#request = (command, signal) => context.request(command, signal);
  }

  /** Drops what is remembered of the key's versions (the object was deleted or is missing). */
  forget(kind: ObjectKind, name: string): void {
    this.#oldest.forget(this.#keys.key(kind, name));
  }

  /** The object's version: the key's oldest, remembered unless `fresh`; undefined when none. */
  async findOldest(
    kind: ObjectKind,
    name: string,
    signal: AbortSignal | undefined,
    fresh = false,
  ): Promise<KeyVersion | undefined> {
    const key = this.#keys.key(kind, name);
    const cached = fresh ? undefined : this.#oldest.get(key);
    if (cached) return cached;
    const { versions } = await this.keyVersions(kind, name, signal);
    const oldest = versions.at(-1);
    if (oldest) this.#oldest.set(key, oldest);
    return oldest;
  }

  /** Every version and delete marker of the object's key, newest first. */
  async keyVersions(
    kind: ObjectKind,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<KeyVersions> {
    const key = this.#keys.key(kind, name);
    const versions: KeyVersion[] = [];
    const deleteMarkers: string[] = [];
    const action = `list the versions of ${describeObject(kind, name)}`;
    for await (const page of this.#pages(key, signal, action)) {
      for (const v of page.Versions ?? []) {
        if (v.Key === key && v.VersionId !== undefined)
          versions.push({ versionId: v.VersionId, size: v.Size ?? 0 });
      }
      for (const m of page.DeleteMarkers ?? [])
        if (m.Key === key && m.VersionId !== undefined) deleteMarkers.push(m.VersionId);
    }
    return { versions, deleteMarkers };
  }

  /** The objects of a kind, each by its oldest version (which is remembered). */
  async *list(kind: ObjectKind, signal: AbortSignal | undefined): AsyncIterable<ObjectInfo> {
    const prefix = this.#keys.listPrefix(kind);
    // Versions come grouped by key, newest first: a key's last version seen is its oldest.
    let current: { key: string; version: KeyVersion } | undefined;
    const finish = (): ObjectInfo | undefined => {
      if (!current) return undefined;
      this.#oldest.set(current.key, current.version);
      const name = this.#keys.nameOf(kind, current.key);
      return name === undefined ? undefined : { name, size: current.version.size };
    };
    for await (const page of this.#pages(prefix, signal, `list ${kind} objects`)) {
      for (const v of page.Versions ?? []) {
        if (v.Key === undefined || v.VersionId === undefined) continue;
        if (current && current.key !== v.Key) {
          const info = finish();
          if (info) yield info;
        }
        current = { key: v.Key, version: { versionId: v.VersionId, size: v.Size ?? 0 } };
      }
    }
    const info = finish();
    if (info) yield info;
  }

  /** The pages of ListObjectVersions below `prefix`, following the markers to the end. */
  async *#pages(
    prefix: string,
    signal: AbortSignal | undefined,
    action: string,
  ): AsyncIterable<ListVersionsPage> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const command = new ListObjectVersionsCommand({
        Bucket: this.#bucket,
        Prefix: prefix,
        ...(keyMarker !== undefined && { KeyMarker: keyMarker }),
        ...(versionMarker !== undefined && { VersionIdMarker: versionMarker }),
      });
      const page = await this.#send<ListVersionsPage>(command, signal, action);
      yield page;
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  /** Removes one version; one already gone is fine. */
  async deleteVersion(
    kind: ObjectKind,
    name: string,
    versionId: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const command = new DeleteObjectCommand({
      Bucket: this.#bucket,
      Key: this.#keys.key(kind, name),
      VersionId: versionId,
    });
    try {
      await this.#request(command, signal);
    } catch (err) {
      if (!isMissing(err))
        throw s3Error(err, `delete ${describeObject(kind, name)}`, this.#location, signal);
    }
  }
}

interface ListVersionsPage {
  readonly Versions?: readonly { Key?: string; VersionId?: string; Size?: number }[];
  readonly DeleteMarkers?: readonly { Key?: string; VersionId?: string }[];
  readonly IsTruncated?: boolean;
  readonly NextKeyMarker?: string;
  readonly NextVersionIdMarker?: string;
}
