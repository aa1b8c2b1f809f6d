/**
 * PackSpool: a directory on this machine's disk where whole packs downloaded from network storage
 * are kept while worker threads read them as they read a local repository's packs, so that the
 * process holds none of their bytes. A restore keeps the packs its next batches still need there
 * (PackCache): kept in memory instead, they were the largest part of such a restore's peak, five
 * slabs of 18 MiB. `check --read-data` streams each pack there for its check worker instead of
 * holding the packs in flight (two per worker) in memory. A backup writes each data pack there
 * as its blobs come (SpooledPacker) and stores it from there, so that neither the pack being
 * filled nor the ones being uploaded are held in memory.
 *
 * One directory per command, `holdfast-spool-<pid>-<random>` in the first parent that is not
 * memory itself (tmpfs, ramfs: spooling there would only move the packs into the page cache's
 * shared memory, so the command keeps them in its own instead), made at the first pack and
 * removed with everything in it at the end. Directories left by a command that was killed are
 * removed by the next one that spools into the same parent, once their process is gone and
 * they have not changed for a while. Nothing is fsynced: a spooled pack lives for seconds and is
 * read back from the page cache.
 */
import {
  lstat,
  mkdtemp,
  open,
  readdir,
  rm,
  statfs,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, type PackId } from '../../core/index.js';
import type { ByteSink, ObjectStore } from '../../storage/index.js';

/** statfs(2) `f_type` of file systems whose files are memory. */
const MEMORY_FILE_SYSTEMS = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);
const PREFIX = 'holdfast-spool-';
/**
 * Pieces of a download are gathered to this size before a write: a network store hands over
 * 16–64 KiB at a time, and a thread-pool write per piece would cost more than the copy.
 */
const STAGE_BYTES = 1024 * 1024;
/**
 * A directory of a process that is not running here is left alone until it has not changed for
 * this long: a command in another PID namespace (a container sharing the parent) is not visible
 * to kill(2), but its spool changes with every pack.
 */
const ORPHAN_AGE_MS = 15 * 60 * 1000;

/** A pack downloaded whole into the spool (PackSpool.download). */
export interface SpooledPack {
  readonly path: string;
  readonly length: number;
}

/** A file made by PackSpool.createWritable: where it is, and its open handle. */
export interface WritableSpoolFile {
  readonly path: string;
  readonly handle: FileHandle;
}

/** Writes all of `bytes` at `position`, resuming after short writes. */
export async function writeAt(
  handle: FileHandle,
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const left = bytes.length - done;
    done += (await handle.write(bytes, done, left, position + done)).bytesWritten;
  }
}

/** The spool could not be written (PackSpool.download): the caller keeps packs in memory. */
export interface SpoolFailed {
  readonly spoolError: unknown;
}

export class PackSpool {
  /** Names files uniquely: a pack dropped and fetched again is a new file (see create). */
  private sequence = 0;
  /** Staging buffers of finished files, for the next ones (downloads run a few at a time). */
  private readonly stages: Buffer[] = [];

  private constructor(readonly dir: string) {}

  /**
   * A spool in the first of `parents` that exists, is writable and is on a disk, or undefined
   * when none is (the caller keeps packs in memory). Never throws.
   */
  static async open(parents: readonly string[]): Promise<PackSpool | undefined> {
    for (const parent of parents) {
      try {
        if (MEMORY_FILE_SYSTEMS.has(Number((await statfs(parent)).type))) continue;
        await removeOrphans(parent);
        return new PackSpool(await mkdtemp(join(parent, `${PREFIX}${process.pid}-`)));
      } catch {
        // Missing, not writable, or not a directory: try the next.
      }
    }
    return undefined;
  }

  /**
   * A new file for a pack, to download into (SpoolFile). Each call makes a file of its own, so a
   * pack fetched again while a worker still reads the earlier copy never truncates or removes
   * what that worker reads. Rejects as creating the file does.
   */
  async create(packId: PackId): Promise<SpoolFile> {
    const path = join(this.dir, `${packId}.${this.sequence++}`);
    const handle = await open(path, 'wx', 0o600);
    return new SpoolFile(path, handle, this.takeStage(), (stage) => this.giveStage(stage));
  }

  /**
   * A new empty file for a pack being written (SpooledPacker), open for reading and writing.
   * Rejects as creating the file does.
   */
  async createWritable(): Promise<WritableSpoolFile> {
    const path = join(this.dir, `written-${this.sequence++}`);
    return { path, handle: await open(path, 'wx+', 0o600) };
  }

  /** A staging buffer of STAGE_BYTES for writes, to give back (giveStage) when done with. */
  takeStage(): Buffer {
    return this.stages.pop() ?? Buffer.allocUnsafeSlow(STAGE_BYTES);
  }

  giveStage(stage: Buffer): void {
    this.stages.push(stage);
  }

  /**
   * Downloads pack `packId` whole into a new file of the spool: streamed there by a store that
   * streams (ObjectStore `sink`), written there from memory by one that does not. Resolves with
   * the file, or with SpoolFailed when the spool could not be written; rejects as `store.get`
   * does. Either way a failed download leaves no file behind.
   */
  async download(
    store: ObjectStore,
    packId: PackId,
    signal?: AbortSignal,
  ): Promise<SpooledPack | SpoolFailed> {
    let file: SpoolFile;
    try {
      file = await this.create(packId);
    } catch (err) {
      return { spoolError: err };
    }
    let got: Buffer;
    try {
      got = await store.get('pack', packId, undefined, { ...(signal && { signal }), sink: file });
    } catch (err) {
      await file.discard();
      throw err;
    }
    try {
      return { path: file.path, length: await file.finish(got) };
    } catch (err) {
      await file.discard();
      return { spoolError: err };
    }
  }

  /**
   * Removes a spooled pack nothing will read by path any more (the workers close a spooled
   * pack's descriptor after each range, so its blocks go with it).
   */
  remove(path: string): void {
    unlink(path).catch(() => undefined);
  }

  /** Removes the directory and every pack in it; the spool is unusable afterwards. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Removes spool directories in `parent` whose command is gone (see ORPHAN_AGE_MS). */
async function removeOrphans(parent: string): Promise<void> {
  for (const name of await readdir(parent)) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length).split('-')[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    const path = join(parent, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat === undefined || !stat.isDirectory() || Date.now() - stat.mtimeMs < ORPHAN_AGE_MS)
      continue;
    await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * One pack's file in the spool, written as a download arrives: a ByteSink for a streaming store
 * (ObjectStore.get `sink`), which never rejects; `finish` reports what failed.
 */
export class SpoolFile implements ByteSink {
  /** The first write that failed; later pieces are dropped. */
  private failure: unknown;
  /** Where the staged bytes go in the file, and how many there are. */
  private stagedAt = 0;
  private staged = 0;
  private end = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly stage: Buffer,
    private readonly giveBack: (stage: Buffer) => void,
  ) {}

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    // The stage went back to the spool at close: a late piece must not touch it.
    if (this.closed) this.failure ??= new Error(`${this.path}: written after it was closed`);
    if (this.failure !== undefined) return;
    try {
      // A retried download starts over at 0: what is staged goes to its own place first.
      if (offset !== this.stagedAt + this.staged) await this.flush(offset);
      if (this.staged + chunk.length > this.stage.length) await this.flush(offset);
      if (chunk.length >= this.stage.length) {
        await writeAt(this.handle, chunk, offset);
        this.stagedAt = offset + chunk.length;
      } else {
        this.stage.set(chunk, this.staged);
        this.staged += chunk.length;
      }
      this.end = Math.max(this.end, offset + chunk.length);
    } catch (err) {
      this.failure = err;
    }
  }

  /**
   * Writes `rest` (what a store that does not stream answered with) after what arrived, closes
   * the file and resolves with the pack's length; rejects with the first write's failure.
   */
  async finish(rest: Uint8Array): Promise<number> {
    if (this.failure === undefined && rest.length > 0) await this.write(rest, this.end);
    if (this.failure === undefined)
      try {
        await this.flush(this.end);
      } catch (err) {
        this.failure = err;
      }
    await this.close();
    if (this.failure !== undefined)
      throw this.failure instanceof Error ? this.failure : new Error(describeError(this.failure));
    return this.end;
  }

  /** Closes and removes the file (a failed download). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private async flush(next: number): Promise<void> {
    if (this.staged > 0)
      await writeAt(this.handle, this.stage.subarray(0, this.staged), this.stagedAt);
    this.staged = 0;
    this.stagedAt = next;
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.giveBack(this.stage);
    await this.handle.close();
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs under another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
