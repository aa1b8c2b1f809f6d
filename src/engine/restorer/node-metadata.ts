/** A tree Node's metadata in the form the filesystem Source applies it (sources/fs). */
import type { FsMetadata } from '../../sources/index.js';
import type { Node } from '../format/index.js';

export function metadataOf(node: Node): FsMetadata {
  return {
    type: node.type,
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
    atimeNs: node.atimeNs,
    mtimeNs: node.mtimeNs,
    ...(node.xattrs && { xattrs: node.xattrs }),
  };
}
