/**
 * Restorer: recreates a snapshot's tree under a target directory — contents, then metadata,
 * with directory metadata applied after their contents (deepest first) so restoring files does
 * not disturb directory times and read-only directories do not block their own restore.
 * Hardlinks are recreated as links; a file whose data cannot be read is reported by name while
 * the rest restores.
 */
import { mkdir, link, rm, lstat } from 'node:fs/promises';
import {
  describeError,
  errnoCode,
  HoldfastError,
  Semaphore,
  throwIfAborted,
  type BlobId,
} from '../../core/index.js';
import { applyMetadata, createSpecial, createSymlink } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import { treeNodes, type Repository } from '../repository/index.js';
import { verifyFileContent, writeFileContent } from './file-writer.js';

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
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { files: number; bytes: number; path: string }) => void;
  readonly blobConcurrency?: number;
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
  private readonly blobs: Semaphore;
  private readonly hardlinks = new Map<string, Promise<Buffer | undefined>>();
  private readonly dirsToFinish: { path: Buffer; node: Node }[] = [];
  private readonly errors: RestoreProblem[] = [];
  private files = 0;
  private dirs = 0;
  private bytes = 0;

  constructor(private readonly options: RestoreOptions) {
    this.blobs = new Semaphore(options.blobConcurrency ?? 8);
  }

  async restore(): Promise<RestoreResult> {
    const target = Buffer.from(this.options.target);
    await mkdir(target, { recursive: true });
    await this.restoreDir(this.options.tree, target, '', false);
    // Deepest directories first: their times must be set after everything inside them.
    for (const d of this.dirsToFinish.reverse())
      await this.guard(d.path, () => this.applyMeta(d.path, d.node));
    return { files: this.files, dirs: this.dirs, bytes: this.bytes, errors: this.errors };
  }

  private async restoreDir(
    treeId: BlobId,
    dirPath: Buffer,
    snapshotPath: string,
    selected: boolean,
  ): Promise<boolean> {
    let restoredAny = false;
    const pending: Promise<void>[] = [];
    for await (const node of treeNodes(this.options.repo, treeId, this.options.signal)) {
      throwIfAborted(this.options.signal);
      const childSnapshotPath = `${snapshotPath}/${node.name.toString()}`;
      const childPath = Buffer.concat([dirPath, SLASH, node.name]);
      const decision = this.options.select?.(childSnapshotPath, node, selected) ?? 'restore';
      if (decision === 'skip') continue;
      if (node.type === 'dir') {
        if (decision === 'descend') {
          // Created only when something inside is selected.
          const created = await this.restoreDir(node.subtree!, childPath, childSnapshotPath, false);
          if (created) this.dirsToFinish.push({ path: childPath, node });
          restoredAny ||= created;
        } else {
          await this.guard(childPath, async () => {
            await mkdir(childPath, { recursive: true, mode: 0o700 });
            this.dirs++;
            this.dirsToFinish.push({ path: childPath, node });
            if (node.subtree)
              await this.restoreDir(node.subtree, childPath, childSnapshotPath, true);
          });
          restoredAny = true;
        }
        continue;
      }
      if (decision === 'descend') continue;
      if (!restoredAny) await mkdir(dirPath, { recursive: true, mode: 0o700 });
      restoredAny = true;
      pending.push(this.guard(childPath, () => this.restoreLeaf(childPath, node)));
      if (pending.length >= 64) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return restoredAny;
  }

  private async restoreLeaf(path: Buffer, node: Node): Promise<void> {
    await removeExisting(path);
    const linkKey =
      node.links > 1 && node.type !== 'dir' ? `${node.deviceId}:${node.inode}` : undefined;
    if (!linkKey) return this.createLeaf(path, node);
    // The first path of a hardlink group is restored; the others wait for it, then link to it.
    const first = this.hardlinks.get(linkKey);
    if (first) {
      const firstPath = await first;
      if (firstPath) {
        await link(firstPath, path);
        this.files++;
        return;
      }
      return this.createLeaf(path, node);
    }
    let settle: (p: Buffer | undefined) => void = () => undefined;
    this.hardlinks.set(linkKey, new Promise((resolve) => (settle = resolve)));
    try {
      await this.createLeaf(path, node);
      settle(path);
    } catch (err) {
      settle(undefined);
      throw err;
    }
  }

  private async createLeaf(path: Buffer, node: Node): Promise<void> {
    switch (node.type) {
      case 'file': {
        const n = await writeFileContent(path, node, {
          repo: this.options.repo,
          blobs: this.blobs,
          ...(this.options.signal && { signal: this.options.signal }),
        });
        if (this.options.verify) await verifyFileContent(path, node, this.options.repo);
        this.bytes += n;
        break;
      }
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
    this.files++;
    this.options.onProgress?.({ files: this.files, bytes: this.bytes, path: path.toString() });
  }

  private async applyMeta(path: Buffer, node: Node): Promise<void> {
    await applyMetadata(
      path,
      {
        type: node.type,
        mode: node.mode,
        uid: node.uid,
        gid: node.gid,
        atimeNs: node.atimeNs,
        mtimeNs: node.mtimeNs,
        ...(node.xattrs && { xattrs: node.xattrs }),
      },
      { owner: this.options.owner },
    );
  }

  private async guard(path: Buffer, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof HoldfastError && err.code === 'INTERRUPTED') throw err;
      this.errors.push({
        path: path.toString(),
        message: describeError(err),
        integrity: err instanceof HoldfastError && err.code === 'INTEGRITY',
      });
    }
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
