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
import { isUtf8 } from 'node:buffer';
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

/** Decodes bytes as UTF-8 only when that round-trips exactly: when they are valid UTF-8. */
function utf8Exact(bytes: Buffer): string | undefined {
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
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

/**
 * The JSON object of a node. Keys are assigned one by one in the format's order (the order is
 * part of the bytes that name the tree), without a temporary object per optional field.
 */
function nodeToJson(n: Node): NodeJson {
  const j: Record<string, unknown> = {};
  putBytes(j, 'name', n.name);
  j.type = n.type;
  j.mode = n.mode;
  j.uid = n.uid;
  j.gid = n.gid;
  if (n.user !== undefined) j.user = n.user;
  if (n.group !== undefined) j.group = n.group;
  j.mtime_ns = n.mtimeNs.toString();
  j.atime_ns = n.atimeNs.toString();
  j.ctime_ns = n.ctimeNs.toString();
  j.inode = n.inode.toString();
  j.device_id = n.deviceId.toString();
  j.links = n.links;
  if (n.size !== undefined) j.size = n.size;
  if (n.content !== undefined) j.content = n.content;
  if (n.subtree !== undefined) j.subtree = n.subtree;
  if (n.rdev !== undefined) j.rdev = n.rdev.toString();
  if (n.sparse === true) j.sparse = true;
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

/**
 * Every node of a parent snapshot passes through here in a backup (≈ 80,000 for a source tree),
 * so the node is built by assignment in one fixed order rather than with conditional spreads:
 * no temporary object per optional field, and few hidden classes for the code that reads nodes.
 */
function nodeFromJson(j: NodeJson): Node {
  const name =
    j.name !== undefined
      ? textBytes(j.name)
      : j.name_raw !== undefined
        ? rawBytes(j.name_raw)
        : undefined;
  if (name === undefined || name.length === 0) throw badTree('node without a name');
  if (!(NODE_TYPES as readonly string[]).includes(j.type))
    throw badTree(`unknown node type ${j.type}`);
  const node: { -readonly [K in keyof Node]: Node[K] } = {
    name,
    type: j.type as NodeType,
    mode: j.mode,
    uid: j.uid,
    gid: j.gid,
    mtimeNs: bigintField(j.mtime_ns, 'mtime_ns'),
    atimeNs: bigintField(j.atime_ns, 'atime_ns'),
    ctimeNs: bigintField(j.ctime_ns, 'ctime_ns'),
    inode: bigintField(j.inode, 'inode'),
    deviceId: bigintField(j.device_id, 'device_id'),
    links: j.links,
  };
  if (j.user !== undefined) node.user = j.user;
  if (j.group !== undefined) node.group = j.group;
  if (j.size !== undefined) node.size = j.size;
  if (j.content !== undefined) node.content = idList(j.content);
  if (j.subtree !== undefined) node.subtree = idList([j.subtree])[0]!;
  if (j.link_target !== undefined) node.linkTarget = textBytes(j.link_target);
  else if (j.link_target_raw !== undefined) node.linkTarget = rawBytes(j.link_target_raw);
  if (j.rdev !== undefined) node.rdev = bigintField(j.rdev, 'rdev');
  if (j.sparse === true) node.sparse = true;
  if (j.xattrs !== undefined)
    node.xattrs = j.xattrs.map((x) => ({
      name: getBytes(x as Record<string, unknown>, 'name') ?? Buffer.alloc(0),
      value: Buffer.from(x.value, 'base64'),
    }));
  return node;
}

function textBytes(value: unknown): Buffer {
  if (typeof value !== 'string') throw badTree('a name or link target is not a string');
  return Buffer.from(value, 'utf8');
}

function rawBytes(value: unknown): Buffer {
  if (typeof value !== 'string') throw badTree('a raw name or link target is not a string');
  return Buffer.from(value, 'base64');
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
