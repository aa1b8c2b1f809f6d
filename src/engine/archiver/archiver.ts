/**
 * Archiver: walks the backup targets depth-first, saves changed file contents and every
 * directory's tree, and returns the root tree id. Files unchanged since the parent snapshot
 * (size, mtime, ctime, inode) are not read again. Items that cannot be read are reported and
 * left out; the caller marks the snapshot partial.
 *
 * Files are FileArchiver's: their contents are read, chunked and sealed by a pool of native
 * file sealers (sealers/), so the walk runs ahead of the reading: each step of the walk returns
 * `walked` (everything below was listed and queued) and `result` (its node, once the contents
 * are saved). A directory's tree is saved when all its children's results are in; nodes keep
 * their listing order whatever order files finish in. With `threads: 0` files are read on the
 * main thread, as before the pool existed.
 *
 * With the parent's walk cache (walk-cache.ts), a directory whose listing digest is the
 * recorded one is walked for its subdirectories only; once they are saved, its recorded tree is
 * taken over if they all came out with their recorded trees (takeOver), and otherwise it is
 * compared entry by entry like any directory, its recorded tree standing in for the parent's.
 * Every directory's digest and tree go to the recorder for the next backup.
 *
 * Memory: one node per entry of each directory whose tree is not yet saved — the walk runs at
 * most the pool's queue (2048 files) ahead of the reading — plus the pool's bound (see
 * FileSealerPool) and the open packs; never a whole file.
 */
import { describeError, throwIfAborted, type BlobId } from '../../core/index.js';
import { DirectoryReader, joinPath, statEntry, type FsEntry } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import { newCounters, type BackupCounters } from './backup-progress.js';
import { targetTree, type TargetDir } from './backup-targets.js';
import { FileArchiver, type FileArchiverOptions } from './file-archiver.js';
import { nodeFromEntry } from './node-from-entry.js';
import { TreeBuilder } from './tree-saver.js';
import { ParentTrees, type ParentDir } from './parent-trees.js';
import { sameNodes } from './same-node.js';
import {
  finished,
  noop,
  NO_PARENT,
  NOT_REUSABLE,
  quiet,
  type Child,
  type DirWalk,
  type Reuse,
  type Step,
  type WalkedSubdir,
} from './walk-step.js';
import type { WalkCache, WalkRecorder } from './walk-cache.js';
import { WalkScope } from './walk-scope.js';

export interface ArchiverOptions extends FileArchiverOptions {
  readonly parentTree?: BlobId;
  /** True when the path (absolute) should be left out. */
  readonly exclude?: (path: Buffer, isDir: boolean) => boolean;
  readonly excludeCaches?: boolean;
  readonly oneFileSystem?: boolean;
  /** The parent snapshot's walk cache (walk-cache.ts): directories whose trees may be taken over. */
  readonly walkCache?: WalkCache;
  /** Receives every directory's listing digest and tree, for the next backup's walk cache. */
  readonly walkRecorder?: WalkRecorder;
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

export class Archiver {
  readonly counters = newCounters();
  private readonly errors: ProblemItem[] = [];
  private readonly warnings: ProblemItem[] = [];
  /** Saves the files the walk finds (unchanged ones from the parent's content lists). */
  private readonly files: FileArchiver;
  private readonly parents: ParentTrees;
  /** Lists directories a few steps ahead of the walk, in the thread pool. */
  private readonly directories: DirectoryReader;
  private readonly scope: WalkScope;

  constructor(private readonly options: ArchiverOptions) {
    this.files = new FileArchiver(options, this.counters, {
      error: (path, err) => this.problem(this.errors, path, err),
      warning: (path, err) => this.problem(this.warnings, path, err),
    });
    // A damaged parent only costs speed: everything below it is read again.
    this.parents = new ParentTrees(
      options.repo,
      (message) => this.warnings.push({ path: '(parent snapshot)', message }),
      options.signal,
    );
    this.scope = new WalkScope(options);
    this.directories = new DirectoryReader({
      ...(options.signal && { signal: options.signal }),
      ...this.scope.readerOptions(options.walkCache),
    });
  }

  async archive(paths: readonly string[]): Promise<ArchiveResult> {
    const { root, whole, targets } = targetTree(paths);
    this.files.start();
    let tree: BlobId;
    try {
      let step: Step<BlobId>;
      if (whole) {
        const rootEntry = await statEntry(SLASH);
        step = this.archiveDir(SLASH, this.options.parentTree, rootEntry.deviceId);
      } else {
        step = this.archiveVirtual(SLASH, root, this.options.parentTree);
      }
      if (step.walked) await step.walked;
      tree = await step.result;
    } finally {
      await this.files.close();
    }
    return { tree, counters: this.counters, errors: this.errors, warnings: this.warnings, targets };
  }

  /** A directory on the way to the targets: only the named children are included. */
  private archiveVirtual(
    path: Buffer,
    dir: TargetDir,
    parentTree: BlobId | undefined,
  ): Step<BlobId> {
    const nodes: Promise<Node | undefined>[] = [];
    const walked = this.walkVirtual(path, dir, parentTree, nodes);
    return this.treeStep(path, walked, nodes);
  }

  private async walkVirtual(
    path: Buffer,
    dir: TargetDir,
    parentTree: BlobId | undefined,
    nodes: Promise<Node | undefined>[],
  ): Promise<DirWalk> {
    const parentDir = await this.parents.get(parentTree);
    const parents = parentDir.nodes;
    const names = [...dir.children.keys()]
      .map((n) => Buffer.from(n))
      .sort((a, b) => Buffer.compare(a, b));
    for (const name of names) {
      const child = dir.children.get(name.toString())!;
      const childPath = joinPath(path, name);
      let entry: FsEntry;
      try {
        entry = await statEntry(childPath);
      } catch (err) {
        this.problem(this.errors, childPath, err);
        continue;
      }
      const parent = parents.get(name.toString('latin1'));
      let step: Step<Node | undefined>;
      if (child === 'target') {
        step = this.archiveEntry(childPath, entry, parent, entry.deviceId);
      } else if (entry.type === 'dir') {
        const sub = this.archiveVirtual(childPath, child, parent?.subtree);
        step = {
          walked: sub.walked,
          result: sub.result.then((subtree) => nodeFromEntry(entry, { subtree })),
        };
      } else {
        this.problem(this.errors, childPath, new Error('not a directory'));
        continue;
      }
      nodes.push(quiet(step.result));
      if (step.walked) await step.walked;
    }
    return { parent: parentDir, complete: true };
  }

  private archiveEntry(
    path: Buffer,
    entry: FsEntry,
    parent: Node | undefined,
    rootDevice: bigint,
  ): Step<Node | undefined> {
    switch (entry.type) {
      case 'file':
        return this.files.archive(path, entry, parent);
      case 'dir': {
        // A mount point under --one-file-system is kept as an empty directory, as restic does.
        const sub = this.scope.crossesDevice(entry, rootDevice)
          ? finished(this.treeOf([], undefined))
          : this.archiveDir(path, parent?.subtree, rootDevice);
        const result = sub.result.then((subtree) => this.dirNode(entry, parent, subtree));
        return { walked: sub.walked, result };
      }
      default:
        return finished(Promise.resolve(nodeFromEntry(entry)));
    }
  }

  private dirNode(entry: FsEntry, parent: Node | undefined, subtree: BlobId): Node {
    if (!parent || parent.type !== 'dir') this.counters.dirsNew++;
    else if (parent.subtree === subtree) this.counters.dirsUnmodified++;
    else this.counters.dirsChanged++;
    return nodeFromEntry(entry, { subtree });
  }

  private archiveDir(
    path: Buffer,
    parentTree: BlobId | undefined,
    rootDevice: bigint,
  ): Step<BlobId> {
    const nodes: Promise<Node | undefined>[] = [];
    const walked = this.walkDir(path, parentTree, rootDevice, nodes);
    return this.treeStep(path, walked, nodes, rootDevice);
  }

  /**
   * The tree of a directory whose walk fills `nodes`. When every node equals the parent
   * snapshot's, the parent's tree is reused without encoding it again; when the walk cache
   * vouched for the listing, its recorded tree is taken over if the subdirectories' trees are
   * the recorded ones too. Reading on the main thread, a directory counts as walked only once
   * its files are saved (the old bound on files in flight).
   */
  private treeStep(
    path: Buffer,
    walked: Promise<DirWalk | undefined>,
    nodes: Promise<Node | undefined>[],
    rootDevice = 0n,
  ): Step<BlobId> {
    const result = quiet(
      walked.then(async (dir) => {
        if (dir?.reuse) return this.takeOver(path, dir.reuse, dir.digest!, rootDevice);
        const settled = await Promise.all(nodes);
        const all = settled.filter((n): n is Node => n !== undefined);
        const tree = await this.treeOf(all, dir?.parent);
        if (dir?.digest !== undefined) {
          const whole = dir.complete && all.length === settled.length;
          this.record(path, whole ? dir.digest : NOT_REUSABLE, tree);
        }
        return tree;
      }),
    );
    return { walked: this.files.pooled ? walked.then(noop) : result.then(noop), result };
  }

  /** Lists `path`, queues its files and walks its subdirectories; undefined if unlistable. */
  private async walkDir(
    path: Buffer,
    parentTree: BlobId | undefined,
    rootDevice: bigint,
    nodes: Promise<Node | undefined>[],
  ): Promise<DirWalk | undefined> {
    const recorded = this.options.walkCache?.get(path);
    // Read the parent tree while the directory is listed, unless the walk cache may spare it.
    const early = recorded === undefined ? this.parents.get(parentTree) : undefined;
    let listing;
    try {
      listing = await this.directories.list(path);
    } catch (err) {
      this.problem(this.errors, path, err);
      return undefined;
    }
    const digest = listing.digest && this.scope.listingDigest(listing.digest, rootDevice);
    if (
      recorded !== undefined &&
      digest !== undefined &&
      listing.errors.length === 0 &&
      recorded.digest.equals(digest) &&
      this.options.repo.index.has(recorded.tree)
    ) {
      const children = await this.scope.childrenOf(path, listing);
      this.directories.readAhead(this.scope.subdirsOf(path, children, rootDevice));
      const subtrees = await this.walkRecorded(path, children, rootDevice);
      return {
        parent: NO_PARENT,
        digest,
        complete: true,
        reuse: { tree: recorded.tree, listing, children, subtrees },
      };
    }
    // Recognised by the reader, but its tree is gone from the index: decoded after all.
    if (listing.known) listing = await listing.known.decodeAll();
    for (const e of listing.errors) this.problem(this.errors, e.path, e.error);
    const children = (await this.scope.childrenOf(path, listing)) as FsEntry[];
    const subdirs = children.filter(
      (c) => c.type === 'dir' && !this.scope.crossesDevice(c, rootDevice),
    );
    this.directories.readAhead(subdirs.map((c) => joinPath(path, c.name)));
    const parentDir = await (early ?? this.parents.get(parentTree));
    const parents = parentDir.nodes;
    const parentOf = (child: FsEntry): Node | undefined =>
      parents.get(child.name.toString('latin1'));
    // Subdirectories the walk cache knows are likely taken over: their trees are read on demand.
    const walkCache = this.options.walkCache;
    this.parents.prefetch(
      subdirs
        .filter((c) => walkCache?.get(joinPath(path, c.name)) === undefined)
        .map((c) => parentOf(c)?.subtree),
    );
    for (const child of children) {
      throwIfAborted(this.options.signal);
      const step = this.archiveEntry(
        joinPath(path, child.name),
        child,
        parentOf(child),
        rootDevice,
      );
      nodes.push(quiet(step.result));
      // Depth-first: a subdirectory is listed completely before the next entry.
      if (step.walked) await step.walked;
    }
    return {
      parent: parentDir,
      ...(digest && { digest }),
      complete: listing.errors.length === 0,
    };
  }

  /**
   * The walk below a directory whose listing the walk cache vouched for: only its
   * subdirectories are walked now (each with its own recorded tree as parent); its files wait
   * until takeOver knows whether the recorded tree stands.
   */
  private async walkRecorded(
    path: Buffer,
    children: readonly Child[],
    rootDevice: bigint,
  ): Promise<Map<string, WalkedSubdir>> {
    const subtrees = new Map<string, WalkedSubdir>();
    for (const child of children) {
      if (child.type !== 'dir' || this.scope.crossesDevice(child, rootDevice)) continue;
      throwIfAborted(this.options.signal);
      const childPath = joinPath(path, child.name);
      const recorded = this.options.walkCache?.get(childPath)?.tree;
      const step = this.archiveDir(childPath, recorded, rootDevice);
      subtrees.set(child.name.toString('latin1'), { result: quiet(step.result), recorded });
      if (step.walked) await step.walked;
    }
    return subtrees;
  }

  /**
   * The recorded tree when every subdirectory came out with its recorded tree; otherwise the
   * directory is built as any other, from the recorded (parent) tree's nodes.
   */
  private async takeOver(
    path: Buffer,
    reuse: Reuse,
    digest: Buffer,
    rootDevice: bigint,
  ): Promise<BlobId> {
    const { subtrees } = reuse;
    let same = true;
    for (const { result, recorded } of subtrees.values())
      if ((await result) !== recorded) same = false;
    if (same) {
      for (const child of reuse.children) {
        if (child.type === 'file') {
          this.counters.filesUnmodified++;
          this.files.done(joinPath(path, child.name), Number(child.size));
        } else if (child.type === 'dir') {
          this.counters.dirsUnmodified++;
        }
      }
      this.record(path, digest, reuse.tree);
      return reuse.tree;
    }
    // Something below changed: this directory's nodes are needed, so its listing in full.
    const listing = reuse.listing.known ? await reuse.listing.known.decodeAll() : reuse.listing;
    const children = (await this.scope.childrenOf(path, listing)) as FsEntry[];
    const parent = await this.parents.get(reuse.tree);
    const nodes: Promise<Node | undefined>[] = children.map((child) => {
      const key = child.name.toString('latin1');
      const old = parent.nodes.get(key);
      const subtree = subtrees.get(key)?.result;
      if (subtree !== undefined) return subtree.then((id) => this.dirNode(child, old, id));
      return this.archiveEntry(joinPath(path, child.name), child, old, rootDevice).result;
    });
    const settled = await Promise.all(nodes);
    const all = settled.filter((n): n is Node => n !== undefined);
    const tree = await this.treeOf(all, parent);
    this.record(path, all.length === settled.length ? digest : NOT_REUSABLE, tree);
    return tree;
  }

  private record(path: Buffer, digest: Buffer, tree: BlobId): void {
    this.options.walkRecorder?.add(path, { digest, tree });
  }

  /** The parent's tree when `nodes` are exactly its nodes (not encoded again), else a new tree. */
  private async treeOf(nodes: readonly Node[], parent: ParentDir | undefined): Promise<BlobId> {
    if (parent?.tree !== undefined && sameNodes(nodes, parent.nodes)) return parent.tree;
    const builder = new TreeBuilder(this.options.writer);
    for (const n of nodes) await builder.add(n);
    return builder.finish();
  }

  private problem(list: ProblemItem[], path: Buffer | string, err: unknown): void {
    const item = { path: path.toString(), message: describeError(err) };
    list.push(item);
    this.options.onEvent?.({ kind: list === this.errors ? 'error' : 'warning', ...item });
  }
}
