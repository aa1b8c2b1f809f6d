/**
 * Saves a directory's nodes as tree blobs: one `{nodes}` blob, or for more than TREE_PART_SIZE
 * nodes a `{parts}` blob over part blobs, so no single tree blob grows without bound.
 */
import type { BlobId } from '../../core/index.js';
import { encodeTree, TREE_PART_SIZE, type Node } from '../format/index.js';
import type { BlobWriter } from '../repository/index.js';

export class TreeBuilder {
  private nodes: Node[] = [];
  private readonly parts: BlobId[] = [];

  constructor(private readonly writer: BlobWriter) {}

  /** Nodes must arrive in name order. */
  async add(node: Node): Promise<void> {
    // Split only when a directory has more than TREE_PART_SIZE nodes.
    if (this.nodes.length === TREE_PART_SIZE) await this.flushPart();
    this.nodes.push(node);
  }

  async finish(): Promise<BlobId> {
    if (this.parts.length === 0)
      return (await this.writer.save('tree', encodeTree({ nodes: this.nodes }))).id;
    if (this.nodes.length > 0) await this.flushPart();
    return (await this.writer.save('tree', encodeTree({ parts: this.parts }))).id;
  }

  private async flushPart(): Promise<void> {
    const nodes = this.nodes;
    this.nodes = [];
    this.parts.push((await this.writer.save('tree', encodeTree({ nodes }))).id);
  }
}
