/**
 * Archiver: walks the backup targets depth-first, saves changed file contents and every
 * directory's tree, and returns the root tree id. Files unchanged since the parent snapshot
 * (size, mtime, ctime, inode) are not read again. Items that cannot be read are reported and
 * left out; the caller marks the snapshot partial.
 *
 * Memory: one node per entry of each directory on the current path (≈0.5 KB per entry of the
 * largest directory), one read buffer (4 MiB) and chunker window per file in flight, plus the
 * open packs — never a whole file.
 */
import {
  errnoCode,
  describeError,
  Semaphore,
  throwIfAborted,
  type BlobId,
} from '../../core/index.js';
import { isCacheDir, listDirectory, statEntry, type FsEntry } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import type { BlobWriter, Repository } from '../repository/index.js';
import { treeNodes } from '../repository/index.js';
import { newCounters, type BackupCounters, type BackupEvent } from './backup-progress.js';
import { targetTree, type TargetDir } from './backup-targets.js';
import { ChunkerPool, saveFile } from './file-saver.js';
import { nodeFromEntry, unchangedSinceParent } from './node-from-entry.js';

import { TreeBuilder } from './tree-saver.js';

export interface ArchiverOptions {
  readonly repo: Repository;
  readonly writer: BlobWriter;
  readonly parentTree?: BlobId;
  /** True when the path (absolute) should be left out. */
  readonly exclude?: (path: Buffer, isDir: boolean) => boolean;
  readonly excludeCaches?: boolean;
  readonly oneFileSystem?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: BackupEvent) => void;
  /** Files read concurrently (I/O overlap). */
  readonly fileConcurrency?: number;
}

export interface ProblemItem {
  readonly path: string;
  readonly message: string;
}

export interface ArchiveResult {
  readonly tree: BlobId;
  readonly counters: BackupCounters;
  /** Items left out because they could not be read: the snapshot is partial. */
  readonly errors: ProblemItem[];
  readonly warnings: ProblemItem[];
  readonly targets: string[];
}

const SLASH = Buffer.from('/');
const CACHEDIR_TAG = Buffer.from('CACHEDIR.TAG');

function join(dir: Buffer, name: Buffer): Buffer {
  return dir.length === 1 && dir[0] === 0x2f
    ? Buffer.concat([SLASH, name])
    : Buffer.concat([dir, SLASH, name]);
}

export class Archiver {
  readonly counters = newCounters();
  private readonly errors: ProblemItem[] = [];
  private readonly warnings: ProblemItem[] = [];
  private readonly files: Semaphore;
  private readonly chunkers: ChunkerPool;

  constructor(private readonly options: ArchiverOptions) {
    this.files = new Semaphore(options.fileConcurrency ?? 4);
    this.chunkers = new ChunkerPool(options.repo.chunkerKey, options.repo.chunkerParams);
  }

  async archive(paths: readonly string[]): Promise<ArchiveResult> {
    const { root, whole, targets } = targetTree(paths);
    let tree: BlobId;
    if (whole) {
      const rootEntry = await statEntry(SLASH);
      tree = await this.archiveDir(SLASH, this.options.parentTree, rootEntry.deviceId);
    } else {
      tree = await this.archiveVirtual(SLASH, root, this.options.parentTree);
    }
    return { tree, counters: this.counters, errors: this.errors, warnings: this.warnings, targets };
  }

  /** A directory on the way to the targets: only the named children are included. */
  private async archiveVirtual(
    path: Buffer,
    dir: TargetDir,
    parentTree: BlobId | undefined,
  ): Promise<BlobId> {
    const parents = await this.parentNodes(parentTree);
    const names = [...dir.children.keys()]
      .map((n) => Buffer.from(n))
      .sort((a, b) => Buffer.compare(a, b));
    const nodes: Node[] = [];
    for (const name of names) {
      const child = dir.children.get(name.toString())!;
      const childPath = join(path, name);
      let entry: FsEntry;
      try {
        entry = await statEntry(childPath);
      } catch (err) {
        this.problem(this.errors, childPath, err);
        continue;
      }
      const parent = parents.get(name.toString('latin1'));
      if (child === 'target') {
        const node = await this.archiveEntry(childPath, entry, parent, entry.deviceId);
        if (node) nodes.push(node);
      } else if (entry.type === 'dir') {
        const subtree = await this.archiveVirtual(childPath, child, parent?.subtree);
        nodes.push(nodeFromEntry(entry, { subtree }));
      } else {
        this.problem(this.errors, childPath, new Error('not a directory'));
      }
    }
    return this.saveTree(nodes);
  }

  private async archiveEntry(
    path: Buffer,
    entry: FsEntry,
    parent: Node | undefined,
    rootDevice: bigint,
  ): Promise<Node | undefined> {
    throwIfAborted(this.options.signal);
    switch (entry.type) {
      case 'file':
        return this.archiveFile(path, entry, parent);
      case 'dir': {
        const crossesDevice = this.options.oneFileSystem === true && entry.deviceId !== rootDevice;
        // A mount point under --one-file-system is kept as an empty directory, as restic does.
        const subtree = crossesDevice
          ? await this.saveTree([])
          : await this.archiveDir(path, parent?.subtree, rootDevice);
        if (!parent || parent.type !== 'dir') this.counters.dirsNew++;
        else if (parent.subtree === subtree) this.counters.dirsUnmodified++;
        else this.counters.dirsChanged++;
        return nodeFromEntry(entry, { subtree });
      }
      default:
        return nodeFromEntry(entry);
    }
  }

  private async archiveFile(
    path: Buffer,
    entry: FsEntry,
    parent: Node | undefined,
  ): Promise<Node | undefined> {
    const shown = path.toString();
    const done = (bytes: number): void => {
      this.counters.filesDone++;
      this.counters.bytesDone += bytes;
      this.options.onEvent?.({ kind: 'file-done', path: shown, bytes });
    };
    if (
      unchangedSinceParent(entry, parent) &&
      parent.content.every((id) => this.options.repo.index.has(id))
    ) {
      this.counters.filesUnmodified++;
      done(Number(entry.size));
      return nodeFromEntry(entry, { content: parent.content });
    }
    return this.files.run(async () => {
      this.options.onEvent?.({ kind: 'file-started', path: shown });
      try {
        const saved = await saveFile(path, entry, {
          writer: this.options.writer,
          chunkers: this.chunkers,
          ...(this.options.signal && { signal: this.options.signal }),
          onBytes: (n) => this.options.onEvent?.({ kind: 'bytes', bytes: n }),
        });
        if (saved.changedWhileReading)
          this.problem(this.warnings, path, new Error('file changed while it was read'));
        if (parent?.type === 'file') this.counters.filesChanged++;
        else this.counters.filesNew++;
        done(saved.bytes);
        return nodeFromEntry({ ...entry, size: saved.bytes }, { content: saved.content });
      } catch (err) {
        if (errnoCode(err) === 'ENOENT')
          this.problem(this.warnings, path, new Error('file vanished before it was read'));
        else if (errnoCode(err) !== undefined) this.problem(this.errors, path, err);
        else throw err;
        return undefined;
      }
    });
  }

  private async archiveDir(
    path: Buffer,
    parentTree: BlobId | undefined,
    rootDevice: bigint,
  ): Promise<BlobId> {
    let listing;
    try {
      listing = await listDirectory(path);
    } catch (err) {
      this.problem(this.errors, path, err);
      return this.saveTree([]);
    }
    for (const e of listing.errors) this.problem(this.errors, e.path, e.error);
    const cacheDir = this.options.excludeCaches === true && (await isCacheDir(path));
    const parents = await this.parentNodes(parentTree);
    const pending: Promise<Node | undefined>[] = [];
    for (const child of listing.entries) {
      const childPath = join(path, child.name);
      if (cacheDir && !child.name.equals(CACHEDIR_TAG)) continue;
      if (this.options.exclude?.(childPath, child.type === 'dir')) continue;
      const result = this.archiveEntry(
        childPath,
        child,
        parents.get(child.name.toString('latin1')),
        rootDevice,
      );
      // Directories are walked one at a time (depth-first); files run concurrently under the semaphore.
      if (child.type === 'dir') await result;
      pending.push(result);
    }
    const nodes = (await Promise.all(pending)).filter((n): n is Node => n !== undefined);
    return this.saveTree(nodes);
  }

  private async saveTree(nodes: readonly Node[]): Promise<BlobId> {
    const builder = new TreeBuilder(this.options.writer);
    for (const n of nodes) await builder.add(n);
    return builder.finish();
  }

  /** The parent snapshot's nodes of one directory, keyed by raw name. */
  private async parentNodes(treeId: BlobId | undefined): Promise<Map<string, Node>> {
    const map = new Map<string, Node>();
    if (!treeId || !this.options.repo.index.has(treeId)) return map;
    try {
      for await (const n of treeNodes(this.options.repo, treeId, this.options.signal))
        map.set(n.name.toString('latin1'), n);
    } catch (err) {
      // A damaged parent only costs speed: everything is read again.
      this.warnings.push({
        path: '(parent snapshot)',
        message: `parent tree ${treeId} unreadable, reading all files: ${describeError(err)}`,
      });
      map.clear();
    }
    return map;
  }

  private problem(list: ProblemItem[], path: Buffer | string, err: unknown): void {
    const item = { path: path.toString(), message: describeError(err) };
    list.push(item);
    this.options.onEvent?.({ kind: list === this.errors ? 'error' : 'warning', ...item });
  }
}
