/** Converts what the filesystem source reports into a tree node. */
import type { BlobId } from '../../core/index.js';
import type { FsEntry } from '../../sources/index.js';
import type { Node } from '../format/index.js';

export function nodeFromEntry(
  entry: FsEntry,
  extra: { content?: readonly BlobId[]; subtree?: BlobId } = {},
): Node {
  return {
    name: entry.name,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    ...(entry.user !== undefined && { user: entry.user }),
    ...(entry.group !== undefined && { group: entry.group }),
    mtimeNs: entry.mtimeNs,
    atimeNs: entry.atimeNs,
    ctimeNs: entry.ctimeNs,
    inode: entry.inode,
    deviceId: entry.deviceId,
    links: entry.links,
    ...(entry.type === 'file' && { size: Number(entry.size) }),
    ...(extra.content !== undefined && { content: extra.content }),
    ...(extra.subtree !== undefined && { subtree: extra.subtree }),
    ...(entry.linkTarget !== undefined && { linkTarget: entry.linkTarget }),
    ...(entry.rdev !== undefined &&
      (entry.type === 'dev' || entry.type === 'chardev') && { rdev: entry.rdev }),
    ...(entry.xattrs !== undefined && entry.xattrs.length > 0 && { xattrs: entry.xattrs }),
    ...(entry.sparse === true && { sparse: true }),
  };
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
