/**
 * Remembers the oldest version of keys in a versioned bucket, so reading a pack many times costs
 * one version listing, not one per read. Bounded: past `limit` entries the oldest entries go.
 * Entries never go stale while the object exists (its oldest version never changes); a read of a
 * deleted version fails with NOT_FOUND and drops the entry.
 */
export interface KeyVersion {
  readonly versionId: string;
  readonly size: number;
}

export class VersionCache {
  readonly #entries = new Map<string, KeyVersion>();

  constructor(private readonly limit = 100_000) {}

  get(key: string): KeyVersion | undefined {
    return this.#entries.get(key);
  }

  set(key: string, version: KeyVersion): void {
    this.#entries.delete(key);
    this.#entries.set(key, version);
    if (this.#entries.size > this.limit) {
      const first = this.#entries.keys().next();
      if (!first.done) this.#entries.delete(first.value);
    }
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }
}
