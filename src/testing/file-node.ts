/** A file node with fixed metadata, for tests that write trees by hand. */
import type { BlobId } from '../core/index.js';
import type { Node } from '../engine/index.js';

export function fileNode(name: string, content: BlobId[]): Node {
  return {
    name: Buffer.from(name),
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtimeNs: 1n,
    atimeNs: 1n,
    ctimeNs: 1n,
    inode: 1n,
    deviceId: 1n,
    links: 1,
    size: 0,
    content,
  };
}
