/**
 * LocalStore: an ObjectStore in a directory (layout in local-layout.ts).
 *
 * A put writes `tmp/<random>` (O_EXCL), fsyncs it, hard-links it to the final name, removes the
 * tmp name and fsyncs the final directory. link(2) fails with EEXIST instead of replacing, which
 * keeps objects write-once even with concurrent writers on other hosts sharing the directory
 * (rename(2) would silently replace). A crash leaves at most a tmp file, never a partial object.
 * Packs of DIRECT_MIN_BYTES or more are written past the page cache where the file system does
 * that well (direct-write.ts).
 */
import { randomBytes } from 'node:crypto';
import { fstat, type Stats } from 'node:fs';
import {
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  stat,
  statfs,
  unlink,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  HoldfastError,
  errnoCode,
  systemClock,
  throwIfAborted,
  type Clock,
} from '../../core/index.js';
import { assertValidObjectName, describeObject, isValidObjectName } from '../object-name.js';
import {
  CONFIG_NAME,
  bodyLength,
  FileBody,
  type ByteRange,
  type ObjectInfo,
  type ObjectFiles,
  type ObjectBody,
  type ObjectKind,
  type ObjectStore,
  type GetOptions,
  type StoreCallOptions,
} from '../object-store.js';
import {
  assertValidRange,
  objectExists,
  objectNotFound,
  rangePastEnd,
  storeClosed,
} from '../store-errors.js';
import { fsError } from './fs-error.js';
import { OpenFiles, readAt } from './open-files.js';
import { removeQuietly, syncDir, unlessMissing, writeBody } from './fs-helpers.js';
import {
  DIRECT_MIN_BYTES,
  DIRECT_OPEN_FLAGS,
  directWritesSuit,
  writeBodyDirect,
} from './direct-write.js';
import {
  DATA_DIR,
  DIR_MODE,
  FILE_MODE,
  LAYOUT_DIRS,
  TMP_DIR,
  kindDir,
  objectPath,
} from './local-layout.js';

/** Object files kept open between ranged reads (see OpenFiles). */
const OPEN_FILES = 32;
/** Files stat'ed concurrently while listing: enough to hide latency, few enough for NFS. */
const STAT_BATCH = 32;

export interface LocalStoreOptions {
  /** Decides which tmp files are stale in cleanTmp. */
  readonly clock?: Clock;
}

export class LocalStore implements ObjectStore {
  readonly location: string;
  /** Absolute path of the repository directory. */
  readonly root: string;
  /** Every object is a file under `root` (local-layout.ts). */
  readonly files: ObjectFiles = {
    path: (kind, name) => {
      assertValidObjectName(kind, name);
      return objectPath(this.root, kind, name);
    },
  };
  readonly #clock: Clock;
  /** Pack (and other object) files kept open between ranged reads. */
  readonly #openFiles = new OpenFiles(OPEN_FILES);
  /** Whether packs are written with O_DIRECT (direct-write.ts), decided once per store. */
  #directWrites: Promise<boolean> | undefined;
  #closed = false;

  constructor(root: string, options: LocalStoreOptions = {}) {
    this.root = resolve(root);
    this.location = this.root;
    this.#clock = options.clock ?? systemClock;
  }

  /** Makes the root (and missing parents) and every layout directory. Idempotent. */
  async create(options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    this.#enter(signal);
    try {
      const firstCreated = await mkdir(this.root, { recursive: true, mode: DIR_MODE });
      const made = (dir: string) =>
        mkdir(join(this.root, dir), { recursive: true, mode: DIR_MODE });
      await Promise.all(LAYOUT_DIRS.map(made));
      // New directory entries are only durable once their parent directory is synced.
      await syncDir(join(this.root, DATA_DIR));
      await syncDir(this.root);
      if (firstCreated !== undefined) await syncDir(dirname(firstCreated));
    } catch (err) {
      throw fsError(err, 'create the repository', this.root, signal);
    }
    throwIfAborted(signal);
  }

  async put(
    kind: ObjectKind,
    name: string,
    data: ObjectBody,
    options: StoreCallOptions = {},
  ): Promise<void> {
    const { signal } = options;
    this.#enter(signal, kind, name);
    const path = objectPath(this.root, kind, name);
    const tmp = join(this.root, TMP_DIR, randomBytes(16).toString('hex'));
    let at = tmp;
    try {
      await this.#writeTmp(tmp, kind, data, signal);
      // Last point where an abort is honoured: once linked, the object is visible to every client,
      // and removing it again could pull it from under a writer that already saw OBJECT_EXISTS.
      throwIfAborted(signal);
      at = path;
      await linkNoReplace(tmp, path, kind, name);
    } catch (err) {
      await removeQuietly(tmp);
      throw fsError(err, `write ${describeObject(kind, name)}`, at, signal);
    }
    // A leftover tmp name is harmless (the object is complete); cleanTmp removes it later.
    await removeQuietly(tmp);
    try {
      await syncDir(dirname(path));
    } catch (err) {
      const action = `sync the new ${describeObject(kind, name)} (it may not survive a crash)`;
      throw fsError(err, action, dirname(path));
    }
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: GetOptions = {},
  ): Promise<Buffer> {
    const { signal } = options;
    if (range) assertValidRange(range);
    this.#enter(signal, kind, name);
    const path = objectPath(this.root, kind, name);
    try {
      const data = range
        ? await this.#openFiles.use(path, (fd) => readRange(fd, range, kind, name))
        : await readFile(path, { signal });
      throwIfAborted(signal);
      return data;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw objectNotFound(kind, name);
      throw fsError(err, `read ${describeObject(kind, name)}`, path, signal);
    }
  }

  /**
   * Opens an object for streaming instead of buffering it (the repository server's GET): the
   * object's size, the length streamed, and a stream of the whole object or of `range`. Same
   * errors as `get`, all raised before the first byte; the stream closes the file when it ends
   * or is destroyed.
   */
  async openStream(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: StoreCallOptions = {},
  ): Promise<{ size: number; length: number; stream: Readable }> {
    const { signal } = options;
    if (range) assertValidRange(range);
    this.#enter(signal, kind, name);
    const path = objectPath(this.root, kind, name);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw objectNotFound(kind, name);
      throw fsError(err, `read ${describeObject(kind, name)}`, path, signal);
    }
    try {
      const { size } = await handle.stat();
      if (range && range.offset + range.length > size) throw rangePastEnd(kind, name, range, size);
      const start = range?.offset ?? 0;
      const length = range?.length ?? size;
      throwIfAborted(signal);
      if (length === 0) {
        await handle.close();
        return { size, length, stream: Readable.from([]) };
      }
      const stream = handle.createReadStream({ start, end: start + length - 1, autoClose: true });
      return { size, length, stream };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw fsError(err, `read ${describeObject(kind, name)}`, path, signal);
    }
  }

  async stat(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<ObjectInfo | undefined> {
    this.#enter(options.signal, kind, name);
    const info = await statObject(objectPath(this.root, kind, name), name, options.signal);
    throwIfAborted(options.signal);
    return info;
  }

  async *list(kind: ObjectKind, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const { signal } = options;
    this.#enter(signal);
    if (kind === 'config') {
      const info = await this.stat(kind, CONFIG_NAME, options);
      if (info) yield info;
      return;
    }
    const dirs = kind === 'pack' ? await this.#packDirs(signal) : [kindDir(this.root, kind)];
    for (const dir of dirs) {
      // A pack outside its fan-out directory is unreachable by get, so it is not listed either.
      const prefix = kind === 'pack' ? basename(dir) : '';
      const names = (await readdirOrEmpty(dir, signal)).filter(
        (name) => isValidObjectName(kind, name) && name.startsWith(prefix),
      );
      for (let i = 0; i < names.length; i += STAT_BATCH) {
        throwIfAborted(signal);
        const batch = names.slice(i, i + STAT_BATCH);
        const infos = await Promise.all(batch.map((n) => statObject(join(dir, n), n, signal)));
        for (const info of infos) if (info) yield info;
      }
    }
  }

  async delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    this.#enter(options.signal, kind, name);
    const path = objectPath(this.root, kind, name);
    try {
      this.#openFiles.forget(path);
      await unlink(path);
      // Prune deletes an index before the packs it names; syncing each removal keeps that order
      // across a crash, so no surviving index points at a deleted pack.
      await syncDir(dirname(path));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw fsError(err, `delete ${describeObject(kind, name)}`, path, options.signal);
    }
  }

  /**
   * Removes files in tmp/ last modified more than `olderThanMs` ago: what a writer killed between
   * creating its tmp file and linking it leaves behind. Choose an age far above the slowest put
   * (hours, not seconds): a younger file may belong to a put still running in another process.
   * Returns how many files were removed.
   */
  async cleanTmp(olderThanMs: number, options: StoreCallOptions = {}): Promise<number> {
    const { signal } = options;
    this.#enter(signal);
    const dir = join(this.root, TMP_DIR);
    const cutoff = this.#clock.now().getTime() - olderThanMs;
    let removed = 0;
    for (const name of await readdirOrEmpty(dir, signal)) {
      throwIfAborted(signal);
      const path = join(dir, name);
      try {
        const info = await unlessMissing(() => lstat(path));
        if (!info?.isFile() || info.mtimeMs >= cutoff) continue;
        await unlink(path);
        removed++;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT')
          throw fsError(err, 'remove a stale tmp file', path, signal);
      }
    }
    return removed;
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#openFiles.closeAll();
    return Promise.resolve();
  }

  #enter(signal: AbortSignal | undefined, kind?: ObjectKind, name?: string): void {
    if (this.#closed) throw storeClosed(this.location);
    if (kind !== undefined && name !== undefined) assertValidObjectName(kind, name);
    throwIfAborted(signal);
  }

  async #writeTmp(
    tmp: string,
    kind: ObjectKind,
    data: ObjectBody,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (data instanceof FileBody && (await this.#adopt(tmp, data))) return;
    const length = kind === 'pack' ? bodyLength(data) : 0;
    if (length >= DIRECT_MIN_BYTES && (await this.#usesDirectWrites())) {
      try {
        return await this.#writeAndSync(tmp, DIRECT_OPEN_FLAGS, (handle) =>
          writeBodyDirect(handle, data, length, signal),
        );
      } catch (err) {
        if (errnoCode(err) !== 'EINVAL') throw err;
        // The file system refuses O_DIRECT, or wants a coarser alignment: buffered from now on.
        this.#directWrites = Promise.resolve(false);
        await removeQuietly(tmp);
      }
    }
    await this.#writeAndSync(tmp, 'wx', (handle) => writeBody(handle, data, signal));
  }

  /**
   * Makes a file body on the repository's file system (a pack spooled to disk) the temporary
   * object by linking it there instead of copying it, and syncs it. False when it is on another
   * file system, cannot be linked, or is not exactly the body's length: the caller copies it.
   */
  async #adopt(tmp: string, body: FileBody): Promise<boolean> {
    try {
      await link(body.path, tmp);
    } catch {
      return false; // EXDEV above all; a missing tmp/ is made again by the copy
    }
    const handle = await open(tmp, 'r');
    let exact: boolean;
    try {
      exact = (await handle.stat()).size === body.length;
      if (exact) await handle.sync();
    } finally {
      await handle.close();
    }
    if (!exact) await unlink(tmp);
    return exact;
  }

  async #writeAndSync(
    tmp: string,
    flags: string | number,
    write: (handle: FileHandle) => Promise<void>,
  ): Promise<void> {
    const handle = await this.#openTmp(tmp, flags);
    try {
      await write(handle);
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    await handle.close();
  }

  #usesDirectWrites(): Promise<boolean> {
    this.#directWrites ??= statfs(this.root).then(
      (fs) => directWritesSuit(fs.type),
      () => false,
    );
    return this.#directWrites;
  }

  async #openTmp(tmp: string, flags: string | number): Promise<FileHandle> {
    try {
      return await open(tmp, flags, FILE_MODE);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    // tmp/ is gone (removed by hand?). Recreate it, but never conjure a repository out of nothing.
    const root = await unlessMissing(() => stat(this.root));
    if (!root) {
      throw new HoldfastError('REPOSITORY_NOT_FOUND', `no repository at ${this.root}`, {
        hint: 'check the repository location, or create the repository first',
      });
    }
    await mkdir(dirname(tmp), { recursive: true, mode: DIR_MODE });
    return await open(tmp, flags, FILE_MODE);
  }

  async #packDirs(signal: AbortSignal | undefined): Promise<string[]> {
    const data = join(this.root, DATA_DIR);
    const subdirs = (await readdirOrEmpty(data, signal)).filter((n) => /^[0-9a-f]{2}$/.test(n));
    return subdirs.sort().map((sub) => join(data, sub));
  }
}

/**
 * Links without ever replacing: EEXIST means another writer won. A missing target directory
 * (a data/xx removed by hand) is recreated once, with its parent synced so it survives a crash.
 */
async function linkNoReplace(
  tmp: string,
  path: string,
  kind: ObjectKind,
  name: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await link(tmp, path);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') throw objectExists(kind, name);
      if (code !== 'ENOENT' || attempt > 1) throw err;
    }
    await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
    await syncDir(dirname(dirname(path)));
  }
}

async function readRange(
  fd: number,
  range: ByteRange,
  kind: ObjectKind,
  name: string,
): Promise<Buffer> {
  if (range.length === 0) {
    // Nothing to read tells nothing of the size: an empty range must still lie within the object.
    const { size } = await fstatOf(fd);
    if (range.offset > size) throw rangePastEnd(kind, name, range, size);
    return Buffer.alloc(0);
  }
  // Unsafe allocation is fine: every byte is overwritten, or the buffer is thrown away.
  const buffer = Buffer.allocUnsafe(range.length);
  for (let filled = 0; filled < range.length;) {
    const position = range.offset + filled;
    const bytesRead = await readAt(fd, buffer, filled, range.length - filled, position);
    // The size is looked at only when the file ends early (one call less per read): objects
    // never change after put, so a file shorter than the index says is damaged or tampered with.
    if (bytesRead === 0) throw rangePastEnd(kind, name, range, (await fstatOf(fd)).size);
    filled += bytesRead;
  }
  return buffer;
}

function fstatOf(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) =>
    fstat(fd, (err, stats) => (err ? reject(err) : resolve(stats))),
  );
}

async function statObject(
  path: string,
  name: string,
  signal: AbortSignal | undefined,
): Promise<ObjectInfo | undefined> {
  try {
    const info = await unlessMissing(() => stat(path));
    return info?.isFile() ? { name, size: info.size } : undefined;
  } catch (err) {
    throw fsError(err, 'stat', path, signal);
  }
}

async function readdirOrEmpty(dir: string, signal: AbortSignal | undefined): Promise<string[]> {
  try {
    return (await unlessMissing(() => readdir(dir))) ?? [];
  } catch (err) {
    throw fsError(err, 'list', dir, signal);
  }
}
