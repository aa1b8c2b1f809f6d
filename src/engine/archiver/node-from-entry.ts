/** Converts what the filesystem source reports into a tree node. */
import type { BlobId } from '../../core/index.js';
import type { FsEntry } from '../../sources/index.js';
import type { Node } from '../format/index.js';

/** Built by assignment, not conditional spreads: it runs for every entry of a backup. */
export function nodeFromEntry(
  entry: FsEntry,
  extra: { content?: readonly BlobId[]; subtree?: BlobId } = {},
): Node {
  const node: { -readonly [K in keyof Node]: Node[K] } = {
    name: entry.name,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    mtimeNs: entry.mtimeNs,
    atimeNs: entry.atimeNs,
    ctimeNs: entry.ctimeNs,
    inode: entry.inode,
    deviceId: entry.deviceId,
    links: entry.links,
  };
  if (entry.user !== undefined) node.user = entry.user;
  if (entry.group !== undefined) node.group = entry.group;
  if (entry.type === 'file') node.size = Number(entry.size);
  if (extra.content !== undefined) node.content = extra.content;
  if (extra.subtree !== undefined) node.subtree = extra.subtree;
  if (entry.linkTarget !== undefined) node.linkTarget = entry.linkTarget;
  if (entry.rdev !== undefined && (entry.type === 'dev' || entry.type === 'chardev'))
    node.rdev = entry.rdev;
  if (entry.xattrs !== undefined && entry.xattrs.length > 0) node.xattrs = entry.xattrs;
  if (entry.sparse === true) node.sparse = true;
  return node;
}

/**
 * A file is unchanged, and its content list can be reused without reading it, when size, mtime,
 * ctime and inode all equal the parent snapshot's node (ctime catches changes that keep mtime).
 */
export function unchangedSinceParent(
  entry: FsEntry,
  parent: Node | undefined,
): parent is Node & { content: readonly BlobId[] } {
  return (
    parent !== undefined &&
    parent.type === 'file' &&
    parent.content !== undefined &&
    parent.size === Number(entry.size) &&
    parent.mtimeNs === entry.mtimeNs &&
    parent.ctimeNs === entry.ctimeNs &&
    parent.inode === entry.inode
  );
}
