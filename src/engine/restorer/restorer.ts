/**
 * Restorer: recreates a snapshot's tree under a target directory — contents, then metadata,
 * with directory metadata applied after their contents (deepest first) so restoring files does
 * not disturb directory times and read-only directories do not block their own restore.
 * Hardlinks are recreated as links; a file whose data cannot be read is reported by name while
 * the rest restores.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, link, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import {
  describeError,
  errnoCode,
  HoldfastError,
  mapLimit,
  ownBytes,
  throwIfAborted,
  type BlobId,
} from '../../core/index.js';
import { applyMetadata, createSpecial, createSymlink } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';
import { FileBatcher, type WrittenFile } from './file-batcher.js';
import { verifyFileContent } from './file-content.js';
import { LinkGroups } from './link-groups.js';
import { metadataOf } from './node-metadata.js';
import { TreePrefetcher } from './tree-prefetcher.js';

export interface RestoreOptions {
  readonly repo: Repository;
  readonly tree: BlobId;
  readonly target: string;
  /**
   * Decides per snapshot path ("/srv/www/index.html") whether it is restored. `underSelected` is
   * true inside a directory already chosen for restore: includes have matched, but excludes must
   * still be able to skip the entry.
   */
  readonly select?: (
    path: string,
    node: Node,
    underSelected: boolean,
  ) => 'restore' | 'skip' | 'descend';
  readonly verify?: boolean;
  /** Restore ownership (uid/gid); only meaningful as root. */
  readonly owner: boolean;
  /** Worker threads that write files (default: the repository's `workerThreads`). */
  readonly workers?: number;
  /**
   * Where whole packs downloaded from network storage are spooled, in order of preference: the
   * first on a disk (not tmpfs) is used (PackSpool). Default: the system's temporary directory.
   */
  readonly spoolDirs?: readonly string[];
  /** Told about what the restore works around (a spool it cannot write). */
  readonly onWarning?: (message: string) => void;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { files: number; bytes: number; path: string }) => void;
}

export interface RestoreProblem {
  readonly path: string;
  readonly message: string;
  readonly integrity: boolean;
}

export interface RestoreResult {
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  readonly errors: RestoreProblem[];
}

const SLASH = Buffer.from('/');

export class Restorer {
  private readonly batcher: FileBatcher;
  private readonly trees: TreePrefetcher;
  private readonly linkGroups = new LinkGroups();
  /** Later paths of hardlink groups met before their first path was complete: linked at the end. */
  private readonly linkFollowers: { path: Buffer; node: Node; fresh: boolean }[] = [];
  private readonly dirsToFinish: { path: Buffer; node: Node }[] = [];
  private readonly errors: RestoreProblem[] = [];
  private files = 0;
  private dirs = 0;
  private bytes = 0;

  constructor(private readonly options: RestoreOptions) {
    this.trees = new TreePrefetcher(options.repo, options.signal);
    this.batcher = new FileBatcher({
      repo: options.repo,
      done: (file) => this.finishFile(file),
      applyMetadata: options.verify !== true,
      owner: options.owner,
      spoolDirs: options.spoolDirs ?? [tmpdir()],
      ...(options.onWarning && { onWarning: options.onWarning }),
      ...(options.workers !== undefined && { workers: options.workers }),
      ...(options.signal && { signal: options.signal }),
    });
  }

  async restore(): Promise<RestoreResult> {
    const target = Buffer.from(this.options.target);
    const created = await mkdir(target, { recursive: true });
    try {
      await this.restoreDir(this.options.tree, target, '', false, created !== undefined, true);
      await this.batcher.finish();
      await this.linkAll();
    } finally {
      await this.batcher.close();
    }
    // Deepest directories first: their times must be set after everything inside them.
    for (const d of this.dirsToFinish.reverse())
      await this.guard(d.path, () => this.applyMeta(d.path, d.node));
    return { files: this.files, dirs: this.dirs, bytes: this.bytes, errors: this.errors };
  }

  /**
   * Restores a directory's entries below `dirPath`. `fresh` says `dirPath` was created by this
   * restore (or does not exist yet), so no entry can already exist there and none is removed.
   * `exists` says `dirPath` is there already; otherwise it is created before its first entry
   * (a directory only descended into for a selection is created only when something in it is).
   */
  private async restoreDir(
    treeId: BlobId,
    dirPath: Buffer,
    snapshotPath: string,
    selected: boolean,
    fresh: boolean,
    exists: boolean,
  ): Promise<boolean> {
    let restoredAny = false;
    const pending: Promise<void>[] = [];
    const select = this.options.select;
    for await (const nodes of this.trees.nodeLists(treeId))
      for (const node of nodes) {
        throwIfAborted(this.options.signal);
        // Snapshot paths are only for the selection: a full restore does not decode every name.
        const childSnapshotPath = select ? `${snapshotPath}/${node.name.toString()}` : '';
        const childPath = Buffer.concat([dirPath, SLASH, node.name]);
        const decision = select?.(childSnapshotPath, node, selected) ?? 'restore';
        if (decision === 'skip') {
          if (node.subtree) this.trees.forget(node.subtree);
          continue;
        }
        if (node.type === 'dir') {
          if (decision === 'descend') {
            // Created only when something inside is selected.
            const created = await this.restoreDir(
              node.subtree!,
              childPath,
              childSnapshotPath,
              false,
              fresh,
              false,
            );
            if (created) this.finishLater(childPath, node);
            restoredAny ||= created;
          } else {
            if (!restoredAny) fresh = this.makeDir(dirPath, fresh, exists);
            restoredAny = true;
            await this.guard(childPath, async () => {
              let made: boolean;
              try {
                made = makeDirectory(childPath);
              } catch (err) {
                if (node.subtree) this.trees.forget(node.subtree);
                throw err;
              }
              this.dirs++;
              this.finishLater(childPath, node);
              if (node.subtree)
                await this.restoreDir(node.subtree, childPath, childSnapshotPath, true, made, true);
            });
          }
          continue;
        }
        if (decision === 'descend') continue;
        if (!restoredAny) fresh = this.makeDir(dirPath, fresh, exists);
        restoredAny = true;
        // Most entries are regular files in a fresh directory, which only join a batch: without
        // the promises of the general path, which were most of what a restore's walk allocated.
        if (node.type === 'file' && fresh && node.links <= 1) {
          const wait = this.guardSync(childPath, () => this.batcher.add(childPath, node));
          if (wait !== undefined) pending.push(this.guard(childPath, () => wait));
        } else {
          const leaf = this.restoreLeaf(childPath, node, fresh);
          pending.push(this.guard(childPath, () => leaf));
        }
        if (pending.length >= 64) await Promise.all(pending.splice(0));
      }
    await Promise.all(pending);
    return restoredAny;
  }

  /**
   * A directory whose metadata is applied once everything below it is restored. Its path is kept
   * in a buffer of its own (ownBytes): kept as the slice of a shared pool it is, the paths of a
   * kernel tree's 5,000 directories held ≈ 5 MiB of pools midway through its restore.
   */
  private finishLater(path: Buffer, node: Node): void {
    this.dirsToFinish.push({ path: ownBytes(path), node });
  }

  /** Creates a directory that is created lazily; stays fresh only if it did not exist. */
  private makeDir(path: Buffer, fresh: boolean, exists: boolean): boolean {
    if (exists) return fresh;
    return makeDirectory(path) || fresh;
  }

  /**
   * Restores one non-directory entry. A regular file only joins a batch here: its content,
   * metadata and count follow when the batch runs (finishFile). A later path of a hardlink group
   * is linked at once if the group's first path is complete already; else it waits in
   * linkFollowers until every first path is done. Linking at once keeps a tree whose links are
   * far apart (a copy of a directory made with `cp -al`) from holding every later path and its
   * node to the end: ≈ 700 bytes of heap each, 140 MiB for 200,000.
   */
  private async restoreLeaf(path: Buffer, node: Node, fresh: boolean): Promise<void> {
    const linked = node.links > 1 && node.type !== 'dir';
    if (linked && this.linkGroups.has(node)) {
      const first = this.linkGroups.restoredPath(node);
      if (first !== undefined) return this.linkTo(first, path, fresh);
      // Kept until the end: a path of its own, not a slice of a shared pool (ownBytes).
      this.linkFollowers.push({ path: ownBytes(path), node, fresh });
      return;
    }
    if (linked) this.linkGroups.add(node, path);
    if (!fresh) await removeExisting(path);
    await this.createLeaf(path, node);
  }

  private async createLeaf(path: Buffer, node: Node): Promise<void> {
    switch (node.type) {
      case 'file':
        return this.batcher.add(path, node);
      case 'symlink':
        await createSymlink(node.linkTarget ?? Buffer.alloc(0), path);
        break;
      case 'fifo':
      case 'dev':
      case 'chardev':
        createSpecial(path, {
          type: node.type,
          mode: node.mode,
          ...(node.rdev !== undefined && { rdev: node.rdev }),
        });
        break;
      default:
        return; // a socket belongs to a running process; nothing to restore
    }
    await this.applyMeta(path, node);
    this.completed(path, node);
  }

  /** A regular file is written and closed (or failed): verify, apply metadata, count. */
  private finishFile(file: WrittenFile): Promise<void> | undefined {
    const { path, node } = file;
    if (file.error === undefined && !this.options.verify) {
      this.bytes += file.size;
      this.completed(path, node);
      return undefined;
    }
    return this.guard(path, async () => {
      if (file.error !== undefined) throw file.error;
      this.bytes += file.size;
      if (this.options.verify) {
        await verifyFileContent(path, node, this.options.repo);
        await this.applyMeta(path, node);
      }
      this.completed(path, node);
    });
  }

  private completed(path: Buffer, node: Node): void {
    if (node.links > 1) this.linkGroups.restored(node, path);
    this.files++;
    this.options.onProgress?.({ files: this.files, bytes: this.bytes, path: path.toString() });
  }

  /**
   * Links the later paths of each hardlink group to its first path; where the first could not be
   * restored, each later path is restored on its own instead.
   */
  private async linkAll(): Promise<void> {
    await mapLimit(this.linkFollowers.splice(0), 64, (f) =>
      this.guard(f.path, async () => {
        const first = this.linkGroups.restoredPath(f.node);
        if (first !== undefined) await this.linkTo(first, f.path, f.fresh);
        else {
          if (!f.fresh) await removeExisting(f.path);
          await this.createLeaf(f.path, f.node);
        }
      }),
    );
    await this.batcher.finish();
  }

  /** Makes `path` a hard link to `first`, the complete first path of its group. */
  private async linkTo(first: Buffer, path: Buffer, fresh: boolean): Promise<void> {
    if (!fresh) await removeExisting(path);
    await link(first, path);
    this.files++;
  }

  private async applyMeta(path: Buffer, node: Node): Promise<void> {
    await applyMetadata(path, metadataOf(node), { owner: this.options.owner });
  }

  private async guard(path: Buffer, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.noteError(path, err);
    }
  }

  /** As guard, for a step that is synchronous unless it returns a promise to wait for. */
  private guardSync<T>(path: Buffer, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.noteError(path, err);
      return undefined;
    }
  }

  /** Records what failed for `path`; an interruption ends the restore instead. */
  private noteError(path: Buffer, err: unknown): void {
    if (err instanceof HoldfastError && err.code === 'INTERRUPTED') throw err;
    this.errors.push({
      path: path.toString(),
      message: describeError(err),
      integrity: err instanceof HoldfastError && err.code === 'INTEGRITY',
    });
  }
}

/**
 * Creates directory `path` (owner-only until its metadata is applied, last), and any missing
 * parent; true when this call created it, false when a directory (or a symlink to one, as with
 * `mkdir -p`) was already there. Synchronous: creating an inode on a local file system takes
 * microseconds, much less than a thread-pool hop and a promise per directory.
 */
function makeDirectory(path: Buffer): boolean {
  try {
    mkdirSync(path, 0o700);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST' && statSync(path, { throwIfNoEntry: false })?.isDirectory()) return false;
    if (code === 'ENOENT') return mkdirSync(path, { recursive: true, mode: 0o700 }) !== undefined;
    throw err;
  }
}

async function removeExisting(path: Buffer): Promise<void> {
  try {
    const st = await lstat(path);
    await rm(path, { recursive: st.isDirectory(), force: true });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
