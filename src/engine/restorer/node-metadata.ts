/**
 * A tree Node's metadata in the form the filesystem Source applies it (sources/fs), and in the
 * form a restore worker applies it through a file's descriptor.
 */
import type { FsMetadata } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import type { FileMeta } from './workers/restore-job.js';

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

/** What a restore worker applies; xattrs copied (a small Buffer would clone its whole pool slab). */
export function workerMetaOf(node: Node): FileMeta {
  const { xattrs, ...meta } = metadataOf(node);
  return {
    ...meta,
    type: 'file',
    ...(xattrs && {
      xattrs: xattrs.map((x) => ({ name: new Uint8Array(x.name), value: new Uint8Array(x.value) })),
    }),
  };
}
