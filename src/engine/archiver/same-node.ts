/**
 * sameNode: whether two tree nodes record exactly the same metadata and content. When every node
 * of a directory equals the parent snapshot's, the parent's tree blob is reused as is — no
 * encoding, hashing or compressing — which is most of the cost of an unchanged backup's trees.
 */
import type { Node, XattrRecord } from '../format/index.js';

export function sameNode(a: Node, b: Node): boolean {
  return (
    a.type === b.type &&
    a.name.equals(b.name) &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.user === b.user &&
    a.group === b.group &&
    a.mtimeNs === b.mtimeNs &&
    a.atimeNs === b.atimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.inode === b.inode &&
    a.deviceId === b.deviceId &&
    a.links === b.links &&
    a.size === b.size &&
    a.subtree === b.subtree &&
    a.rdev === b.rdev &&
    (a.sparse === true) === (b.sparse === true) &&
    sameBytes(a.linkTarget, b.linkTarget) &&
    (a.content === undefined) === (b.content === undefined) &&
    sameList(a.content, b.content, (x, y) => x === y) &&
    sameList(a.xattrs, b.xattrs, sameXattr)
  );
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

function sameXattr(a: XattrRecord, b: XattrRecord): boolean {
  return a.name.equals(b.name) && a.value.equals(b.value);
}

/** Absent and empty lists compare equal (callers check presence where the encoding keeps it). */
function sameList<T>(
  a: readonly T[] | undefined,
  b: readonly T[] | undefined,
  same: (x: T, y: T) => boolean,
): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => same(v, y[i]!));
}
