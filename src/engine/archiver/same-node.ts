/**
 * sameNode: whether two tree nodes record the same metadata and content, access times aside.
 * When every node of a directory equals the parent snapshot's, the parent's tree blob is reused
 * as is — no encoding, hashing or compressing — which is most of the cost of an unchanged
 * backup's trees.
 *
 * Access times are left out because anything that lists or reads a directory moves them (under
 * relatime at least once a day: a nightly updatedb does, so does the copy that fills a backup
 * source): counting them would make every directory look changed in every nightly backup. A
 * reused tree therefore keeps the access times of the backup that saved it; a directory saved
 * again for any other change records the ones seen now (repository-format.md §11.4).
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

/** Whether `nodes` are exactly the parent directory's nodes, in order. */
export function sameNodes(nodes: readonly Node[], parent: Map<string, Node>): boolean {
  if (nodes.length !== parent.size) return false;
  let i = 0;
  for (const p of parent.values()) if (!sameNode(nodes[i++]!, p)) return false;
  return true;
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
