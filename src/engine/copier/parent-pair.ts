/**
 * ParentPair: a source tree and the destination tree that is its committed copy (the trees of a
 * source snapshot and of a destination snapshot copied from it), walked side by side in name
 * order. When a directory being copied meets an entry its parent pair already holds unchanged,
 * the copier reuses the destination's ids instead of reading the entry again: the archiver's
 * parent-snapshot idea applied to copy.
 */
import { compareNames, type Node } from '../format/index.js';
import { treeNodes, type Repository } from '../repository/index.js';
import type { BlobId } from '../../core/index.js';

export interface NodePair {
  readonly source: Node;
  readonly destination: Node;
}

/** A forward-only cursor: `find` must be called with names in ascending order. */
export class ParentPair {
  readonly #pairs: AsyncIterator<NodePair>;
  #head: NodePair | undefined;
  #done = false;

  constructor(
    source: Repository,
    sourceTree: BlobId,
    destination: Repository,
    destinationTree: BlobId,
    signal?: AbortSignal,
  ) {
    this.#pairs = zip(
      treeNodes(source, sourceTree, signal),
      treeNodes(destination, destinationTree, signal),
    );
  }

  /** The pair named `name`, or undefined. */
  async find(name: Buffer): Promise<NodePair | undefined> {
    while (!this.#done) {
      if (!this.#head) {
        const next = await this.#pairs.next();
        if (next.done) {
          this.#done = true;
          return undefined;
        }
        this.#head = next.value;
      }
      const order = compareNames(this.#head.source.name, name);
      if (order === 0) return this.#head;
      if (order > 0) return undefined;
      this.#head = undefined;
    }
    return undefined;
  }
}

/**
 * Pairs the nodes of two trees that must list the same names in the same order. At the first
 * disagreement (the destination was not a faithful copy) pairing stops: what is not paired is
 * copied in full, which is slower but never wrong.
 */
async function* zip(a: AsyncIterable<Node>, b: AsyncIterable<Node>): AsyncGenerator<NodePair> {
  const left = a[Symbol.asyncIterator]();
  const right = b[Symbol.asyncIterator]();
  try {
    for (;;) {
      const [x, y] = await Promise.all([left.next(), right.next()]);
      if (x.done || y.done) return;
      if (!x.value.name.equals(y.value.name) || x.value.type !== y.value.type) return;
      yield { source: x.value, destination: y.value };
    }
  } finally {
    await Promise.all([left.return?.(), right.return?.()]);
  }
}
