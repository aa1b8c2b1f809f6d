/**
 * Independent oracles for "the restore equals the source": rsync's itemized comparison (content
 * by checksum, hardlinks, ACLs, xattrs, owners, modes, devices, symlink targets, second-resolution
 * times) and our own lstat walk for what rsync does not check (nanosecond mtimes, sparseness).
 */
import { execFile } from 'node:child_process';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { bytesPath } from './tree-builder.js';

const execFileP = promisify(execFile);

/**
 * `rsync -aHAX --checksum --dry-run --itemize-changes SRC/ DST/`: empty output means rsync
 * would change nothing, i.e. the trees are equal. Throws if rsync itself fails.
 */
export async function rsyncDifferences(src: string, dst: string): Promise<string> {
  const { stdout } = await execFileP(
    'rsync',
    ['-aHAX', '--checksum', '--dry-run', '--itemize-changes', `${src}/`, `${dst}/`],
    { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
  );
  return stdout;
}

/** Every entry below `root` (not root itself) as a relative byte path, parents before children. */
export async function walkTree(root: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const visit = async (rel: Buffer | undefined): Promise<void> => {
    const abs = rel ? bytesPath(root, rel) : Buffer.from(root);
    const names = await readdir(abs, { encoding: 'buffer' });
    names.sort((a, b) => Buffer.compare(a, b));
    for (const name of names) {
      const child = rel ? bytesPath(rel, name) : name;
      out.push(child);
      if ((await lstat(bytesPath(root, child))).isDirectory()) await visit(child);
    }
  };
  await visit(undefined);
  return out;
}

/** Entries whose mtime (to the nanosecond) differs between two trees, with both values. */
export async function mtimeDifferences(src: string, dst: string): Promise<string[]> {
  const problems: string[] = [];
  const rels = [Buffer.alloc(0), ...(await walkTree(src))];
  for (const rel of rels) {
    const a = await lstat(rel.length ? bytesPath(src, rel) : src, { bigint: true });
    let b;
    try {
      b = await lstat(rel.length ? bytesPath(dst, rel) : dst, { bigint: true });
    } catch {
      problems.push(`${rel.toString('latin1')}: missing in restore`);
      continue;
    }
    if (a.mtimeNs !== b.mtimeNs) {
      problems.push(`${rel.toString('latin1')}: mtime ${a.mtimeNs} ≠ ${b.mtimeNs}`);
    }
  }
  return problems;
}

/** True when the two files have identical bytes. */
export async function sameContent(a: string, b: string): Promise<boolean> {
  return (await readFile(a)).equals(await readFile(b));
}
