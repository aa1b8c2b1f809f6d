/**
 * ParentTrees: the parent snapshot's directories, read ahead of the walk. Reading a tree blob is
 * a ranged read of a pack, or a cut from a tree pack the repository holds whole
 * (tree-packs.ts), plus decryption; one directory at a time the walk would wait for each
 * read in turn, so the subdirectories about to be walked are requested as soon as their parent
 * is known, and at most READ_AHEAD of them are held.
 *
 * A parent tree that cannot be read only costs speed: its directory is read again in full and a
 * warning says why.
 */
import { describeError, type BlobId } from '../../core/index.js';
import type { Node } from '../format/index.js';
import type { Repository } from '../repository/index.js';

const READ_AHEAD = 32;

/** A parent directory's nodes keyed by raw name (latin1), in tree order. */
export interface ParentDir {
  readonly nodes: Map<string, Node>;
  /** The tree id these nodes were read from; undefined when there was none or it failed. */
  readonly tree: BlobId | undefined;
}

const NONE: ParentDir = { nodes: new Map(), tree: undefined };

export class ParentTrees {
  private readonly ahead = new Map<BlobId, Promise<ParentDir>>();
  constructor(
    private readonly repo: Repository,
    private readonly onWarning: (message: string) => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Starts reading these trees (the subdirectories the walk enters next), within the bound. */
  prefetch(trees: readonly (BlobId | undefined)[]): void {
    for (const tree of trees) {
      if (this.ahead.size >= READ_AHEAD) return;
      if (tree !== undefined && !this.ahead.has(tree)) this.ahead.set(tree, this.load(tree));
    }
  }

  /** The nodes of one parent directory; never rejects. */
  async get(tree: BlobId | undefined): Promise<ParentDir> {
    if (tree === undefined) return NONE;
    const pending = this.ahead.get(tree);
    this.ahead.delete(tree);
    return pending ?? this.load(tree);
  }

  private async load(tree: BlobId): Promise<ParentDir> {
    if (!this.repo.index.has(tree)) return NONE;
    const nodes = new Map<string, Node>();
    try {
      await this.readInto(tree, nodes);
    } catch (err) {
      this.onWarning(`parent tree ${tree} unreadable, reading all files: ${describeError(err)}`);
      return NONE;
    }
    return { nodes, tree };
  }

  /** A tree's nodes in order, following its parts. */
  private async readInto(tree: BlobId, nodes: Map<string, Node>): Promise<void> {
    const content = await this.repo.loadTree(tree, this.signal);
    if ('parts' in content) for (const part of content.parts) await this.readInto(part, nodes);
    else for (const n of content.nodes) nodes.set(n.name.toString('latin1'), n);
  }
}
