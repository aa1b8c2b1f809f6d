/**
 * Trees (repository-format.md, "Trees"): a directory listing stored as a tree blob, JSON,
 * compressed and encrypted like any blob. Nodes are sorted by the raw bytes of their names.
 *
 * A directory with more than TREE_PART_SIZE entries is stored as a tree of parts:
 * `{"parts": [treeId, ...]}` whose parts, in order, hold the nodes. This bounds the memory a
 * single huge directory needs while backing up, restoring or listing.
 *
 * Names and link targets that are not valid UTF-8 are stored base64 in `name_raw` /
 * `link_target_raw` instead of `name` / `link_target`. Times are nanoseconds since the epoch as
 * decimal strings (exact; JSON numbers are not). xattr values are base64.
 */
import { HoldfastError, isHexId, type BlobId } from '../../core/index.js';

export const TREE_PART_SIZE = 10_000;

export const NODE_TYPES = ['file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface XattrRecord {
  readonly name: Buffer;
  readonly value: Buffer;
}

/** A node in memory: names are raw bytes, times bigint nanoseconds. */
export interface Node {
  readonly name: Buffer;
  readonly type: NodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly user?: string;
  readonly group?: string;
  readonly mtimeNs: bigint;
  readonly atimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly inode: bigint;
  readonly deviceId: bigint;
  readonly links: number;
  readonly size?: number;
  readonly content?: readonly BlobId[];
  readonly subtree?: BlobId;
  readonly linkTarget?: Buffer;
  readonly rdev?: bigint;
  readonly xattrs?: readonly XattrRecord[];
  readonly sparse?: boolean;
}

export type Tree = { readonly nodes: readonly Node[] } | { readonly parts: readonly BlobId[] };

interface NodeJson {
  name?: string;
  name_raw?: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  mtime_ns: string;
  atime_ns: string;
  ctime_ns: string;
  inode: string;
  device_id: string;
  links: number;
  size?: number;
  content?: string[];
  subtree?: string;
  link_target?: string;
  link_target_raw?: string;
  rdev?: string;
  xattrs?: { name?: string; name_raw?: string; value: string }[];
  sparse?: boolean;
}

/** Decodes bytes as UTF-8 only when that round-trips exactly. */
function utf8Exact(bytes: Buffer): string | undefined {
  const s = bytes.toString('utf8');
  return Buffer.from(s, 'utf8').equals(bytes) ? s : undefined;
}

function putBytes(target: Record<string, unknown>, key: string, bytes: Buffer): void {
  const text = utf8Exact(bytes);
  if (text !== undefined) target[key] = text;
  else target[`${key}_raw`] = bytes.toString('base64');
}

function getBytes(json: Record<string, unknown>, key: string): Buffer | undefined {
  const text = json[key];
  if (typeof text === 'string') return Buffer.from(text, 'utf8');
  const raw = json[`${key}_raw`];
  if (typeof raw === 'string') return Buffer.from(raw, 'base64');
  return undefined;
}

function nodeToJson(n: Node): NodeJson {
  const j: Record<string, unknown> = {};
  putBytes(j, 'name', n.name);
  Object.assign(j, {
    type: n.type,
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    ...(n.user !== undefined && { user: n.user }),
    ...(n.group !== undefined && { group: n.group }),
    mtime_ns: n.mtimeNs.toString(),
    atime_ns: n.atimeNs.toString(),
    ctime_ns: n.ctimeNs.toString(),
    inode: n.inode.toString(),
    device_id: n.deviceId.toString(),
    links: n.links,
    ...(n.size !== undefined && { size: n.size }),
    ...(n.content !== undefined && { content: n.content }),
    ...(n.subtree !== undefined && { subtree: n.subtree }),
    ...(n.rdev !== undefined && { rdev: n.rdev.toString() }),
    ...(n.sparse === true && { sparse: true }),
  });
  if (n.linkTarget !== undefined) putBytes(j, 'link_target', n.linkTarget);
  if (n.xattrs !== undefined && n.xattrs.length > 0) {
    j.xattrs = n.xattrs.map((x) => {
      const r: Record<string, unknown> = {};
      putBytes(r, 'name', x.name);
      r.value = x.value.toString('base64');
      return r;
    });
  }
  return j as unknown as NodeJson;
}

function bigintField(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value))
    throw badTree(`field ${field} is not an integer string`);
  return BigInt(value);
}

function idList(ids: unknown): BlobId[] {
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string' && isHexId(i)))
    throw badTree('invalid blob id');
  return ids as BlobId[];
}

function badTree(why: string): HoldfastError {
  return new HoldfastError('INTEGRITY', `malformed tree: ${why}`);
}

function nodeFromJson(j: NodeJson): Node {
  const rec = j as unknown as Record<string, unknown>;
  const name = getBytes(rec, 'name');
  if (name === undefined || name.length === 0) throw badTree('node without a name');
  if (!(NODE_TYPES as readonly string[]).includes(j.type))
    throw badTree(`unknown node type ${j.type}`);
  const linkTarget = getBytes(rec, 'link_target');
  return {
    name,
    type: j.type as NodeType,
    mode: j.mode,
    uid: j.uid,
    gid: j.gid,
    ...(j.user !== undefined && { user: j.user }),
    ...(j.group !== undefined && { group: j.group }),
    mtimeNs: bigintField(j.mtime_ns, 'mtime_ns'),
    atimeNs: bigintField(j.atime_ns, 'atime_ns'),
    ctimeNs: bigintField(j.ctime_ns, 'ctime_ns'),
    inode: bigintField(j.inode, 'inode'),
    deviceId: bigintField(j.device_id, 'device_id'),
    links: j.links,
    ...(j.size !== undefined && { size: j.size }),
    ...(j.content !== undefined && { content: idList(j.content) }),
    ...(j.subtree !== undefined && { subtree: idList([j.subtree])[0]! }),
    ...(linkTarget !== undefined && { linkTarget }),
    ...(j.rdev !== undefined && { rdev: bigintField(j.rdev, 'rdev') }),
    ...(j.sparse === true && { sparse: true }),
    ...(j.xattrs !== undefined && {
      xattrs: j.xattrs.map((x) => ({
        name: getBytes(x as Record<string, unknown>, 'name') ?? Buffer.alloc(0),
        value: Buffer.from(x.value, 'base64'),
      })),
    }),
  };
}

export function encodeTree(tree: Tree): Buffer {
  const json = 'parts' in tree ? { parts: tree.parts } : { nodes: tree.nodes.map(nodeToJson) };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

export function decodeTree(bytes: Buffer): Tree {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new HoldfastError('INTEGRITY', 'malformed tree: not JSON', { cause });
  }
  if (typeof json === 'object' && json !== null) {
    const obj = json as { nodes?: unknown; parts?: unknown };
    if (Array.isArray(obj.nodes)) return { nodes: (obj.nodes as NodeJson[]).map(nodeFromJson) };
    if (Array.isArray(obj.parts)) return { parts: idList(obj.parts) };
  }
  throw badTree('neither nodes nor parts');
}

/** Ordering of node names: raw bytes, as the spec requires. */
export function compareNames(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}
