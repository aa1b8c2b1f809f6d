/**
 * WalkScope: which entries a backup's walk covers, from its options alone — exclusions,
 * --exclude-caches and --one-file-system — and what follows from that for the directory reader
 * (which listings it may follow or leave undecoded) and for the walk cache's digests.
 */
import { createHash } from 'node:crypto';
import {
  isCacheDir,
  joinPath,
  type DirectoryListing,
  type DirectoryReaderOptions,
  type FsEntry,
} from '../../sources/index.js';
import type { WalkCache } from './walk-cache.js';
import { mergeByName, type Child } from './walk-step.js';

const CACHEDIR_TAG = Buffer.from('CACHEDIR.TAG');

export interface WalkScopeOptions {
  readonly exclude?: (path: Buffer, isDir: boolean) => boolean;
  readonly excludeCaches?: boolean;
  readonly oneFileSystem?: boolean;
}

export class WalkScope {
  constructor(private readonly options: WalkScopeOptions) {}

  /**
   * The reader's predicates. A listing equal to the walk cache's is not decoded beyond its
   * subdirectories — not under --one-file-system, whose recorded digests also depend on the
   * target's device. The read-ahead may follow the walk below the directories it is told about
   * when it can tell on its own which subdirectories the walk enters: not with --exclude-caches
   * (known from a file's content) or --one-file-system (known from the target's device).
   */
  readerOptions(
    walkCache: WalkCache | undefined,
  ): Pick<DirectoryReaderOptions, 'isKnown' | 'descend'> {
    const { exclude, excludeCaches, oneFileSystem } = this.options;
    return {
      ...(walkCache &&
        oneFileSystem !== true && {
          isKnown: (dir: Buffer, digest: Buffer) =>
            walkCache.get(dir)?.digest.equals(digest) === true,
        }),
      ...(excludeCaches !== true &&
        oneFileSystem !== true && {
          descend: (entry: FsEntry) => entry.type === 'dir' && exclude?.(entry.path, true) !== true,
        }),
    };
  }

  /**
   * The entries of a listing the walk goes on with, in name order: all of them, or only
   * CACHEDIR.TAG in a cache directory under --exclude-caches, less the excluded paths. A known
   * listing (the reader recognised its digest) gives its files and other entries in brief.
   */
  async childrenOf(path: Buffer, listing: DirectoryListing): Promise<Child[]> {
    const all: Child[] = listing.known
      ? mergeByName(listing.entries, listing.known.others)
      : listing.entries;
    const cacheDir = this.options.excludeCaches === true && (await isCacheDir(path));
    const exclude = this.options.exclude;
    if (!cacheDir && exclude === undefined) return all;
    return all.filter(
      (child) =>
        (!cacheDir || child.name.equals(CACHEDIR_TAG)) &&
        exclude?.(joinPath(path, child.name), child.type === 'dir') !== true,
    );
  }

  /** The paths of the subdirectories among `children` the walk enters. */
  subdirsOf(path: Buffer, children: readonly Child[], rootDevice: bigint): Buffer[] {
    const dirs: Buffer[] = [];
    for (const c of children)
      if (c.type === 'dir' && !this.crossesDevice(c, rootDevice)) dirs.push(joinPath(path, c.name));
    return dirs;
  }

  /** Under --one-file-system: whether `entry` is on another device than the target. */
  crossesDevice(entry: Pick<FsEntry, 'deviceId'>, rootDevice: bigint): boolean {
    return this.options.oneFileSystem === true && entry.deviceId !== rootDevice;
  }

  /**
   * The listing digest as recorded. Under --one-file-system which subdirectories are walked also
   * depends on the target's device, so that is part of it.
   */
  listingDigest(digest: Buffer, rootDevice: bigint): Buffer {
    if (this.options.oneFileSystem !== true) return digest;
    const device = Buffer.alloc(8);
    device.writeBigUInt64LE(BigInt.asUintN(64, rootDevice));
    return createHash('sha256').update(digest).update(device).digest();
  }
}
