/**
 * Copier: copies a tree and everything below it from one repository into another through the
 * destination's BlobWriter, and returns the tree's id in the destination.
 *
 * Two cases, decided by the repositories' blob-id keys:
 * - Same key (`init --copy-chunker-params`): ids are equal in both repositories, trees are stored
 *   unchanged, and a data blob the destination already indexes is not even read.
 * - Different keys: every id changes. Each data blob the copy needs is read from the source,
 *   decrypted and hashed under the destination's key (never re-chunked: chunk boundaries stay),
 *   and each tree is rewritten with the new ids. The price is reading the blob — there is no way
 *   to learn its destination id without its plaintext — except where a parent pair (an earlier
 *   copy) already maps the entry, so an incremental copy reads only what changed.
 *
 * Every tree is walked, even one the destination already indexes: an interrupted session can
 * leave a tree indexed whose blobs are not, and only trees of a committed destination snapshot
 * (the parent pair) are known to be complete. Blobs are read with bounded concurrency and
 * written one at a time; memory is bounded by that concurrency times the largest blob, plus the
 * directory being copied.
 */
import { HoldfastError, Semaphore, throwIfAborted, type BlobId } from '../../core/index.js';
import { decodeTree, encodeTree, type Node, type Tree } from '../format/index.js';
import type { BlobWriter, Repository } from '../repository/index.js';
import { ParentPair, type NodePair } from './parent-pair.js';

export interface CopierOptions {
  readonly source: Repository;
  readonly destination: Repository;
  readonly signal?: AbortSignal;
  /** Blobs read from the source at once; default 8. */
  readonly readConcurrency?: number;
}

/** A committed copy: a source tree and its copy in the destination. */
export interface TreePair {
  readonly source: BlobId;
  readonly destination: BlobId;
}

export interface CopyStats {
  /** Data blobs read from the source (and hashed, or written). */
  blobsRead: number;
  /** Bytes of plaintext read from the source. */
  bytesRead: number;
  /** Trees read from the source. */
  treesRead: number;
}

export class Copier {
  /** True when both repositories share the blob-id key, so ids are equal. */
  readonly sameIds: boolean;
  readonly stats: CopyStats = { blobsRead: 0, bytesRead: 0, treesRead: 0 };
  readonly #src: Repository;
  readonly #dst: Repository;
  readonly #signal: AbortSignal | undefined;
  readonly #reads: Semaphore;
  readonly #writes = new Semaphore(1);
  /** Source tree → destination tree, for trees copied completely by this Copier. */
  readonly #trees = new Map<BlobId, BlobId>();

  constructor(options: CopierOptions) {
    this.#src = options.source;
    this.#dst = options.destination;
    this.#signal = options.signal;
    this.#reads = new Semaphore(options.readConcurrency ?? 8);
    this.sameIds = this.#src.idKey.equals(this.#dst.idKey);
  }

  /**
   * Copies `tree` and all it references through `writer`; returns the destination tree id. The
   * caller flushes the writer before writing a snapshot that references the result (packs, then
   * index, then snapshot). `parent`, when given, must be a committed copy.
   */
  async copyTree(tree: BlobId, writer: BlobWriter, parent?: TreePair): Promise<BlobId> {
    const pair = parent && this.#pair(parent.source, parent.destination);
    const id = await this.#tree(tree, writer, pair);
    return id;
  }

  async #tree(id: BlobId, writer: BlobWriter, pair: ParentPair | undefined): Promise<BlobId> {
    throwIfAborted(this.#signal);
    const known = this.#trees.get(id);
    if (known) return known;
    const plain = await this.#src.loadBlob('tree', id, this.#signal);
    this.stats.treesRead++;
    const tree = decodeTree(plain);
    let copy: Tree;
    if ('parts' in tree) {
      // Parts hold consecutive runs of one directory's nodes: the same pair cursor runs on.
      const parts: BlobId[] = [];
      for (const part of tree.parts) parts.push(await this.#tree(part, writer, pair));
      copy = { parts };
    } else {
      copy = { nodes: await this.#nodes(tree.nodes, writer, pair) };
    }
    const bytes = this.sameIds ? plain : encodeTree(copy);
    const newId = this.sameIds ? id : this.#dst.blobId('tree', bytes);
    await this.#writes.run(() => writer.save('tree', bytes, newId));
    this.#trees.set(id, newId);
    return newId;
  }

  async #nodes(
    nodes: readonly Node[],
    writer: BlobWriter,
    pair: ParentPair | undefined,
  ): Promise<Node[]> {
    // Match in name order first (the cursor only moves forward), then copy files concurrently
    // (bounded by the read semaphore) and directories one after another.
    const matches: (NodePair | undefined)[] = [];
    for (const n of nodes) matches.push(pair ? await pair.find(n.name) : undefined);
    const out: Node[] = await Promise.all(
      nodes.map((n, i) =>
        n.type === 'dir' ? Promise.resolve(n) : this.#fileNode(n, matches[i], writer),
      ),
    );
    for (const [i, n] of nodes.entries()) {
      if (n.type === 'dir') out[i] = await this.#dirNode(n, matches[i], writer);
    }
    return out;
  }

  async #dirNode(node: Node, match: NodePair | undefined, writer: BlobWriter): Promise<Node> {
    if (!node.subtree) return node;
    const src = match?.source.subtree;
    const dst = match?.destination.subtree;
    if (src !== undefined && dst !== undefined && src === node.subtree)
      return { ...node, subtree: dst };
    const pair = src !== undefined && dst !== undefined ? this.#pair(src, dst) : undefined;
    return { ...node, subtree: await this.#tree(node.subtree, writer, pair) };
  }

  async #fileNode(node: Node, match: NodePair | undefined, writer: BlobWriter): Promise<Node> {
    const content = node.content;
    if (!content || content.length === 0) return node;
    const mapped = this.#mappedContent(content, match);
    if (mapped) return { ...node, content: mapped };
    return { ...node, content: await Promise.all(content.map((id) => this.#data(id, writer))) };
  }

  /**
   * The destination content of an unchanged file, when the parent pair holds it: same content
   * ids in the source, and a copy whose blobs the destination indexes with the same lengths.
   */
  #mappedContent(content: readonly BlobId[], match: NodePair | undefined): BlobId[] | undefined {
    const before = match?.source.content;
    const copied = match?.destination.content;
    if (!before || !copied || before.length !== content.length || copied.length !== content.length)
      return undefined;
    for (let i = 0; i < content.length; i++) {
      if (before[i] !== content[i]) return undefined;
      const want = this.#src.index.lookup(content[i]!);
      const have = this.#dst.index.lookup(copied[i]!);
      if (!want || have?.type !== 'data' || have.rawLength !== want.rawLength) return undefined;
    }
    return [...copied];
  }

  async #data(id: BlobId, writer: BlobWriter): Promise<BlobId> {
    if (this.sameIds && this.#dst.index.has(id)) return id;
    return this.#reads.run(async () => {
      throwIfAborted(this.#signal);
      const plain = await this.#src.loadBlob('data', id, this.#signal);
      this.stats.blobsRead++;
      this.stats.bytesRead += plain.length;
      const newId = this.sameIds ? id : this.#dst.blobId('data', plain);
      await this.#writes.run(() => writer.save('data', plain, newId));
      return newId;
    });
  }

  #pair(source: BlobId, destination: BlobId): ParentPair {
    if (this.#dst.index.lookup(destination)?.type !== 'tree') {
      throw new HoldfastError('INTEGRITY', `destination tree ${destination} is not in the index`, {
        hint: 'run "holdfast check" on the destination',
      });
    }
    return new ParentPair(this.#src, source, this.#dst, destination, this.#signal);
  }
}
