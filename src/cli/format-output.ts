/** Rendering helpers: restic-shaped JSON objects and fixed-width tables. */
import type { Node, Snapshot, SnapshotEntry } from '../engine/index.js';

export function snapshotJson(e: SnapshotEntry): Record<string, unknown> {
  return { ...e.snapshot, id: e.id, short_id: e.id.slice(0, 8) };
}

export function snapshotRow(s: Snapshot): string {
  return new Date(s.time).toISOString().replace('T', ' ').slice(0, 19);
}

/** RFC 3339 with nanoseconds from bigint ns (restic's time format). */
export function nsToRfc3339(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

const TYPE_CHAR: Record<Node['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'L',
  dev: 'D',
  chardev: 'c',
  fifo: 'p',
  socket: 'S',
};

export function permissionString(node: Node): string {
  const m = node.mode;
  const bit = (mask: number, c: string): string => (m & mask ? c : '-');
  return (
    TYPE_CHAR[node.type] +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    (m & 0o4000 ? 's' : bit(0o100, 'x')) +
    bit(0o40, 'r') +
    bit(0o20, 'w') +
    (m & 0o2000 ? 's' : bit(0o10, 'x')) +
    bit(0o4, 'r') +
    bit(0o2, 'w') +
    (m & 0o1000 ? 't' : bit(0o1, 'x'))
  );
}

export function nodeJson(path: string, n: Node): Record<string, unknown> {
  return {
    name: n.name.toString(),
    type: n.type,
    path,
    uid: n.uid,
    gid: n.gid,
    ...(n.size !== undefined && { size: n.size }),
    mode: n.mode,
    permissions: permissionString(n),
    mtime: nsToRfc3339(n.mtimeNs),
    atime: nsToRfc3339(n.atimeNs),
    ctime: nsToRfc3339(n.ctimeNs),
    inode: Number(n.inode),
    ...(n.linkTarget && { link_target: n.linkTarget.toString() }),
    struct_type: 'node',
    message_type: 'node',
  };
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
