/**
 * CacheDirectory: the files of one repository's local cache, `ROOT/<repository id>/`, and the
 * rules that make them safe to trust (repository-format.md, "Local cache"):
 * - a cached copy is used only when its SHA-256 equals its name, checked on every read (a pack
 *   once per process, then ranges are read from the verified file, kept open); a damaged, short
 *   or unreadable entry is removed and reported as a miss, so the caller fetches from the
 *   repository;
 * - files appear whole: written to `tmp/`, then renamed into place. Two processes may write the
 *   same entry at once; both write identical bytes, so whichever rename wins is right;
 * - the cache is an optimisation: no method throws for a cache failure. The first failure to
 *   write is reported once and turns writing off for the rest of the run.
 */
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, isHexId, type Logger } from '../../core/index.js';
import { OpenFiles, readAt } from '../local/open-files.js';
import type { ByteRange, ObjectKind } from '../object-store.js';

/** Marks the root as a cache so that backup tools skip it (https://bford.info/cachedir/). */
export const CACHEDIR_TAG =
  'Signature: 8a477f597d28d172789f06886806bc55\n' +
  '# This directory holds copies of holdfast repository metadata; holdfast rebuilds it when\n' +
  '# it is missing, so backups may skip it. See https://bford.info/cachedir/\n';

/** Cached packs kept open between ranged reads: a walk reads thousands of trees from a few. */
const OPEN_PACKS = 4;

/** Files in tmp/ older than this were left by a crashed writer (a write takes far less). */
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

export class CacheDirectory {
  /** The repository's directory: ROOT/<repository id>. */
  readonly dir: string;
  private prepared: Promise<boolean> | undefined;
  private canWrite = true;
  private damageReported = false;
  private touched = false;
  /** Packs whose cached file was verified in this process: later ranges are read directly. */
  private readonly verifiedPacks = new Set<string>();
  /** Descriptors of verified packs, so a ranged read is one pread, not an open and a close. */
  private readonly openPacks = new OpenFiles(OPEN_PACKS);

  constructor(
    readonly root: string,
    repositoryId: string,
    private readonly logger: Logger,
  ) {
    this.dir = join(root, repositoryId);
  }

  /** False once a write failed: the rest of the run reads the cache but adds nothing to it. */
  get writable(): boolean {
    return this.canWrite;
  }

  /** The cached copy of a whole object, verified; undefined when absent or damaged. */
  async read(kind: ObjectKind, name: string): Promise<Buffer | undefined> {
    const path = this.path(kind, name);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      return this.unreadable(kind, name, err);
    }
    await this.touch();
    if (sha256(bytes) === name) return bytes;
    await this.damaged(kind, name, `content does not match its name (${bytes.length} bytes)`);
    return undefined;
  }

  /** A range of a cached pack (or the whole pack), verified once per process; undefined on a miss. */
  async readPack(name: string, range?: ByteRange): Promise<Buffer | undefined> {
    if (!range) {
      const whole = await this.read('pack', name);
      if (whole) this.verifiedPacks.add(name);
      return whole;
    }
    const path = this.path('pack', name);
    try {
      if (!this.verifiedPacks.has(name)) {
        const hash = await sha256OfFile(path);
        if (hash !== name) {
          await this.damaged('pack', name, 'content does not match its name');
          return undefined;
        }
        this.verifiedPacks.add(name);
        await this.touch();
      }
      const out = Buffer.allocUnsafe(range.length);
      const bytesRead = await this.openPacks.use(path, (fd) =>
        readAt(fd, out, 0, range.length, range.offset),
      );
      // Short: the range is past the end, which the repository reports properly.
      return bytesRead === range.length ? out : undefined;
    } catch (err) {
      this.verifiedPacks.delete(name);
      this.openPacks.forget(path);
      return this.unreadable('pack', name, err);
    }
  }

  /** Stores a copy; never throws. Call only with bytes whose SHA-256 is `name`. */
  async write(kind: ObjectKind, name: string, bytes: Uint8Array): Promise<void> {
    if (!this.canWrite || !(await this.prepare())) return;
    const tmp = join(this.dir, 'tmp', randomBytes(16).toString('hex'));
    const path = this.path(kind, name);
    try {
      if (kind === 'pack') await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
      // No fsync: a copy cut short by a crash fails verification and is fetched again.
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
      if (kind === 'pack') {
        // A descriptor still open on a file this one replaced would read the old bytes.
        this.openPacks.forget(path);
        this.verifiedPacks.add(name);
      }
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.writeFailed(err);
    }
  }

  /**
   * Replaces the journal `name` (64 hex digits) with `bytes`: the packs a writer uploaded but has
   * not listed in an index yet, so that a later session can index them (§2.5). Atomic like
   * `write`; never throws. Unlike cached copies, a journal is the cache's own data, not a copy.
   */
  async writeJournal(name: string, bytes: Uint8Array): Promise<void> {
    if (!this.canWrite || !(await this.prepare())) return;
    const tmp = join(this.dir, 'tmp', randomBytes(16).toString('hex'));
    try {
      await mkdir(join(this.dir, 'journal'), { recursive: true, mode: 0o700 });
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        // Unlike a copy, a lost journal cannot be fetched again: make it durable.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, join(this.dir, 'journal', name));
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.writeFailed(err);
    }
  }

  /** Every journal left in this repository's cache directory; never throws. */
  async journals(): Promise<{ name: string; bytes: Buffer }[]> {
    const dir = join(this.dir, 'journal');
    const found: { name: string; bytes: Buffer }[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!isHexId(name)) continue;
      const bytes = await readFile(join(dir, name)).catch(() => undefined);
      if (bytes) found.push({ name, bytes });
    }
    return found;
  }

  /** Removes a journal; never throws. */
  async removeJournal(name: string): Promise<void> {
    await rm(join(this.dir, 'journal', name), { force: true }).catch(() => undefined);
  }

  /** Drops a cached copy (the object was deleted); never throws. */
  async remove(kind: ObjectKind, name: string): Promise<void> {
    if (kind === 'pack') {
      this.verifiedPacks.delete(name);
      this.openPacks.forget(this.path(kind, name));
    }
    await rm(this.path(kind, name), { force: true }).catch(() => undefined);
  }

  /** Closes the pack files kept open for ranged reads (the store is closed). */
  closeFiles(): void {
    this.openPacks.closeAll();
  }

  /** Drops every cached copy of `kind` whose name is not in `keep`; never throws. */
  async retain(kind: ObjectKind, keep: ReadonlySet<string>): Promise<void> {
    for (const name of await this.cachedNames(kind))
      if (!keep.has(name)) await this.remove(kind, name);
  }

  /** Names of the cached copies of a kind (entries with other names are ignored). */
  async cachedNames(kind: ObjectKind): Promise<string[]> {
    const base = join(this.dir, kind);
    const names: string[] = [];
    const entries = await readdir(base).catch(() => [] as string[]);
    if (kind !== 'pack') return entries.filter((n) => isHexId(n));
    for (const fan of entries) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const n of await readdir(join(base, fan)).catch(() => [] as string[]))
        if (isHexId(n) && n.startsWith(fan)) names.push(n);
    }
    return names;
  }

  path(kind: ObjectKind, name: string): string {
    return kind === 'pack'
      ? join(this.dir, kind, name.slice(0, 2), name)
      : join(this.dir, kind, name);
  }

  /** Creates the layout and the CACHEDIR.TAG once; false (reported) when that is impossible. */
  private prepare(): Promise<boolean> {
    this.prepared ??= (async () => {
      try {
        await mkdir(this.root, { recursive: true, mode: 0o700 });
        await this.writeTag();
        for (const sub of ['tmp', 'index', 'snapshot', 'pack'])
          await mkdir(join(this.dir, sub), { recursive: true, mode: 0o700 });
        await this.touch();
        await this.removeStaleTmp();
        return true;
      } catch (err) {
        this.writeFailed(err);
        return false;
      }
    })();
    return this.prepared;
  }

  /** The directory's time says when the repository was last used (docs/backends.md); once a run. */
  private async touch(): Promise<void> {
    if (this.touched) return;
    this.touched = true;
    const now = new Date();
    await utimes(this.dir, now, now).catch(() => undefined);
  }

  private async writeTag(): Promise<void> {
    const tag = join(this.root, 'CACHEDIR.TAG');
    if (await stat(tag).catch(() => undefined)) return;
    const tmp = `${tag}.${randomBytes(8).toString('hex')}`;
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(CACHEDIR_TAG);
    } finally {
      await handle.close();
    }
    await rename(tmp, tag);
  }

  private async removeStaleTmp(): Promise<void> {
    const tmp = join(this.dir, 'tmp');
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const info = await stat(join(tmp, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_TMP_MS)
        await rm(join(tmp, name), { force: true }).catch(() => undefined);
    }
  }

  private async unreadable(kind: ObjectKind, name: string, err: unknown): Promise<undefined> {
    // Absent is the ordinary miss (never cached, or removed by another process meanwhile).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    await this.damaged(kind, name, `unreadable (${describeError(err)})`);
    return undefined;
  }

  private async damaged(kind: ObjectKind, name: string, why: string): Promise<void> {
    await this.remove(kind, name);
    const message = `cached ${kind} ${name} in ${this.dir} is damaged: ${why}; removed it and reading the repository's copy`;
    if (this.damageReported) return this.logger.debug(message);
    this.damageReported = true;
    this.logger.warn(message);
  }

  private writeFailed(err: unknown): void {
    if (!this.canWrite) return;
    this.canWrite = false;
    this.logger.warn(
      `cannot write to the cache ${this.dir} (${describeError(err)}); continuing without caching (--no-cache turns the cache off, --cache-dir moves it)`,
    );
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Streams the file through the hash, so a verified pack never sits in memory whole. */
async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
