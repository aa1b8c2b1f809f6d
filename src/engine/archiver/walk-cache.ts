/**
 * The walk cache: what the last backup saw of each directory, so that the next backup can take
 * a directory's tree over without reading it (repository-format.md §2.5, "Walk cache").
 *
 * An unchanged backup used to fetch, decrypt, decompress and decode every tree of the parent
 * snapshot and compare each entry with its old node, only to find them all equal. With the
 * cache, a directory whose listing digest (sha256 of the native scan, DirectoryListing.digest)
 * equals the one recorded for its path, and whose subdirectories all came out with their
 * recorded trees, gets its recorded tree id back: nothing of the parent snapshot is read for it.
 *
 * The cache is a note for one parent snapshot and one set of options that shape trees (the
 * context): a backup with another parent, other targets or exclusions, another holdfast or other
 * account files finds no usable cache and walks as before. It is sealed with the repository's
 * key (kind `walk-cache`): a cache that does not open — tampered with, truncated, of another
 * repository — is ignored, never trusted. Losing it costs speed only.
 *
 * Plaintext layout (integers little-endian):
 *   magic "holdfast walk cache 1\n" | snapshot id (32) | context (32) | count u32
 *   | count × (path length u32 | path bytes | listing digest (32) | tree id (32))
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, isHexId, type BlobId, type SnapshotId } from '../../core/index.js';
import type { Repository } from '../repository/index.js';

const MAGIC = Buffer.from('holdfast walk cache 1\n');
const ID_BYTES = 32;

/**
 * Directories recorded at most (≈ 100 bytes each plus the path, in memory and on disk); a
 * larger tree is walked without a cache rather than with an unbounded one.
 */
export const MAX_WALK_RECORDS = 1_000_000;

/** What the last backup saw of one directory. */
export interface WalkRecord {
  /** DirectoryListing.digest of the directory's listing. */
  readonly digest: Buffer;
  /** The tree saved for it (everything below it included). */
  readonly tree: BlobId;
}

/** Everything a tree depends on besides the listings: a cache made under another is not used. */
export interface WalkContextInput {
  readonly program: string;
  readonly targets: readonly string[];
  readonly excludePatterns: readonly string[];
  readonly excludeCaches: boolean;
  readonly oneFileSystem: boolean;
  /** sha256 of the account files owner names come from (sources/fs/account-names.ts). */
  readonly accounts: Buffer;
}

export function walkContext(input: WalkContextInput): Buffer {
  const text = JSON.stringify({
    program: input.program,
    targets: [...input.targets].sort(),
    excludePatterns: input.excludePatterns,
    excludeCaches: input.excludeCaches,
    oneFileSystem: input.oneFileSystem,
    accounts: input.accounts.toString('hex'),
  });
  return createHash('sha256').update(text).digest();
}

/** The records of one earlier backup, looked up by absolute path. */
export class WalkCache {
  private constructor(private readonly records: Map<string, WalkRecord>) {}

  get size(): number {
    return this.records.size;
  }

  get(path: Buffer): WalkRecord | undefined {
    return this.records.get(path.toString('latin1'));
  }

  /**
   * Decodes a plaintext; undefined unless it is a whole cache made for `snapshot` under
   * `context` (a cache for another parent or other options says nothing about this backup).
   */
  static decode(plain: Buffer, snapshot: SnapshotId, context: Buffer): WalkCache | undefined {
    const head = MAGIC.length + 2 * ID_BYTES + 4;
    if (plain.length < head || !plain.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    let at = MAGIC.length;
    if (plain.subarray(at, at + ID_BYTES).toString('hex') !== snapshot) return undefined;
    at += ID_BYTES;
    if (!plain.subarray(at, at + ID_BYTES).equals(context)) return undefined;
    at += ID_BYTES;
    const count = plain.readUInt32LE(at);
    at += 4;
    if (count > MAX_WALK_RECORDS) return undefined;
    const records = new Map<string, WalkRecord>();
    for (let i = 0; i < count; i++) {
      if (at + 4 > plain.length) return undefined;
      const length = plain.readUInt32LE(at);
      at += 4;
      if (at + length + 2 * ID_BYTES > plain.length) return undefined;
      const path = plain.toString('latin1', at, at + length);
      at += length;
      const digest = Buffer.from(plain.subarray(at, at + ID_BYTES));
      at += ID_BYTES;
      const tree = plain.toString('hex', at, at + ID_BYTES) as BlobId;
      at += ID_BYTES;
      records.set(path, { digest, tree });
    }
    return at === plain.length ? new WalkCache(records) : undefined;
  }
}

/** Bytes of encoded records per block of a WalkRecorder. */
const RECORD_BLOCK = 64 * 1024;

/**
 * Collects the records of the backup running now, already encoded, in blocks of RECORD_BLOCK
 * bytes; bounded by MAX_WALK_RECORDS.
 *
 * Encoded at once rather than kept as given: a path is a small Buffer, and Node cuts small
 * Buffers out of shared 8 KiB pools, so keeping the path kept its whole pool alive — on the
 * kernel tree's 5,000 directories up to ≈ 40 MiB of memory (10 MiB measured midway) for
 * ≈ 0.5 MiB of records.
 */
export class WalkRecorder {
  private readonly blocks: Buffer[] = [];
  private block = Buffer.allocUnsafeSlow(RECORD_BLOCK);
  private used = 0;
  private count = 0;
  private overflowed = false;

  /** False once more directories than MAX_WALK_RECORDS were recorded: nothing is saved then. */
  get complete(): boolean {
    return !this.overflowed;
  }

  get size(): number {
    return this.count;
  }

  add(path: Buffer, record: WalkRecord): void {
    if (this.count >= MAX_WALK_RECORDS) {
      this.overflowed = true;
      return;
    }
    const need = 4 + path.length + 2 * ID_BYTES;
    if (this.block.length - this.used < need) {
      this.blocks.push(this.block.subarray(0, this.used));
      this.block = Buffer.allocUnsafeSlow(Math.max(RECORD_BLOCK, need));
      this.used = 0;
    }
    let at = this.block.writeUInt32LE(path.length, this.used);
    at += path.copy(this.block, at);
    at += record.digest.copy(this.block, at, 0, ID_BYTES);
    at += this.block.write(record.tree, at, ID_BYTES, 'hex');
    this.used = at;
    this.count++;
  }

  encode(snapshot: SnapshotId, context: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32LE(this.count);
    return Buffer.concat([
      MAGIC,
      Buffer.from(snapshot, 'hex'),
      context,
      count,
      ...this.blocks,
      this.block.subarray(0, this.used),
    ]);
  }
}

/**
 * The cache for `snapshot` in `dir`, or undefined when there is none or it cannot be used
 * (`onProblem` says why when the file exists but does not open).
 */
export async function loadWalkCache(
  dir: string,
  repo: Repository,
  snapshot: SnapshotId,
  context: Buffer,
  onProblem: (message: string) => void,
): Promise<WalkCache | undefined> {
  if (!isHexId(snapshot)) return undefined;
  const file = join(dir, snapshot);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  try {
    const cache = WalkCache.decode(
      repo.openWalkCache(bytes, `walk cache ${file}`),
      snapshot,
      context,
    );
    // Another context (options, account files, holdfast version) is not damage: no message.
    return cache;
  } catch (err) {
    onProblem(`walk cache ${file} ignored and removed: ${describeError(err)}`);
    await rm(file, { force: true }).catch(() => undefined);
    return undefined;
  }
}

/** A file for a snapshot the repository no longer has is removed once it is this old. */
const STALE_MS = 24 * 60 * 60 * 1000;

/**
 * Writes the records of `snapshot` (tmp file, then rename: readers see a whole file or none) and
 * removes the cache of the parent it replaces, and files left for snapshots the repository no
 * longer lists (forgotten, or left by a backup that died between its snapshot and its cache)
 * once they are a day old: a younger one may belong to a backup still running elsewhere on
 * this machine. Failures are reported, never thrown: the snapshot is already saved, and the
 * next backup merely walks without a cache.
 */
export async function saveWalkCache(
  dir: string,
  repo: Repository,
  snapshot: SnapshotId,
  context: Buffer,
  recorder: WalkRecorder,
  replaces: SnapshotId | undefined,
  onProblem: (message: string) => void,
): Promise<void> {
  if (!recorder.complete) return;
  const tmp = join(dir, `tmp-${randomBytes(8).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, repo.sealWalkCache(recorder.encode(snapshot, context)), { mode: 0o600 });
    await rename(tmp, join(dir, snapshot));
    if (replaces !== undefined && replaces !== snapshot && isHexId(replaces))
      await rm(join(dir, replaces), { force: true });
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    onProblem(`cannot write the walk cache in ${dir}: ${describeError(err)}`);
    return;
  }
  await removeStale(dir, repo, snapshot).catch((err: unknown) =>
    onProblem(`cannot clean the walk cache in ${dir}: ${describeError(err)}`),
  );
}

async function removeStale(dir: string, repo: Repository, current: SnapshotId): Promise<void> {
  const names = await readdir(dir);
  if (names.length <= 1) return;
  const existing = new Set<string>();
  for await (const info of repo.store.list('snapshot')) existing.add(info.name);
  const now = Date.now();
  for (const name of names) {
    if (name === current || existing.has(name)) continue;
    const file = join(dir, name);
    const age = now - (await stat(file)).mtimeMs;
    if (age > STALE_MS) await rm(file, { force: true });
  }
}
