import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError, type BlobId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { findNode, Repository, treeNodes } from '../repository/index.js';
import { Archiver } from './archiver.js';
import type { BackupEvent } from './backup-progress.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const chunker = { minSize: 16 * KiB, avgSize: 64 * KiB, maxSize: 256 * KiB };

/** Incompressible, reproducible bytes. */
function seeded(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

async function freshRepo(): Promise<Repository> {
  return Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
    packSize: 4 * MiB,
    chunker,
  });
}

async function backup(
  repo: Repository,
  path: string,
  threads: number,
  onEvent?: (e: BackupEvent) => void,
): Promise<{ tree: BlobId; warnings: number; errors: number }> {
  const writer = repo.writer();
  const archiver = new Archiver({ repo, writer, threads, ...(onEvent && { onEvent }) });
  const result = await archiver.archive([path]);
  await writer.flush();
  return { tree: result.tree, warnings: result.warnings.length, errors: result.errors.length };
}

/** Every file below `tree` as path → content, read back through the repository. */
async function contents(repo: Repository, tree: BlobId, prefix = ''): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for await (const node of treeNodes(repo, tree)) {
    const path = `${prefix}/${node.name.toString()}`;
    if (node.type === 'dir') {
      for (const [p, c] of await contents(repo, node.subtree!, path)) files.set(p, c);
    } else if (node.type === 'file') {
      const blobs = await Promise.all((node.content ?? []).map((id) => repo.loadBlob('data', id)));
      files.set(path, Buffer.concat(blobs));
    }
  }
  return files;
}

void describe('Archiver with file sealers', () => {
  let root = '';
  const expected = new Map<string, Buffer>();
  const put = async (rel: string, data: Buffer): Promise<void> => {
    await writeFile(join(root, rel), data);
    expected.set(rel, data);
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-archiver-'));
    await mkdir(join(root, 'sizes'));
    await mkdir(join(root, 'many', 'deeper'), { recursive: true });
    // Around the chunker's minimum (one-chunk files are sealed straight from the read buffer),
    // the 4 MiB read size, and a file larger than one job.
    const sizes = [
      0,
      1,
      16 * KiB - 1,
      16 * KiB,
      16 * KiB + 1,
      4 * MiB - 1,
      4 * MiB,
      4 * MiB + 1,
      9 * MiB,
    ];
    for (const size of sizes) await put(`sizes/f${size}`, seeded(size, `s${size}`));
    // Enough small files for several batches, with duplicates and compressible text.
    for (let i = 0; i < 300; i++) {
      const text = Buffer.from(`file ${i % 50}\n`.repeat(1 + (i % 7) * 100));
      await put(`many/${i < 150 ? '' : 'deeper/'}t${i}`, text);
    }
    // Repeated chunks inside one file (the sealer sends each id once).
    const block = seeded(64 * KiB, 'block');
    await put('sizes/repeats', Buffer.concat(Array.from({ length: 40 }, () => block)));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('saves the same trees and blobs as reading on the main thread', async () => {
    const repo = await freshRepo();
    const inThread = await backup(repo, root, 0);
    const events: BackupEvent[] = [];
    const viaWorkers = await backup(repo, root, 2, (e) => events.push(e));
    // Compared below the ancestors: /tmp itself changes while parallel test files run.
    assert.equal(
      await sourceTree(repo, viaWorkers.tree, root),
      await sourceTree(repo, inThread.tree, root),
    );
    assert.equal(viaWorkers.errors + viaWorkers.warnings, 0);

    // A fresh repository written by sealers alone restores every byte.
    const other = await freshRepoSharingKeys(repo);
    const alone = await backup(other, root, 2);
    assert.equal(
      await sourceTree(other, alone.tree, root),
      await sourceTree(repo, inThread.tree, root),
    );
    const files = await contents(other, alone.tree);
    for (const [rel, data] of expected) {
      const got = [...files].find(([p]) => p.endsWith(`/${rel}`));
      assert.ok(got, rel);
      assert.ok(got[1].equals(data), rel);
    }
    const started = events.filter((e) => e.kind === 'file-started').length;
    const done = events.filter((e) => e.kind === 'file-done').length;
    assert.equal(done, expected.size);
    assert.ok(started <= done);
  });

  void it('reading files and listing directories leaves their access times alone', async () => {
    // Access times before modification times: under relatime the next read or listing would
    // move them (unless the backup opens with O_NOATIME), and the next backup would find every
    // node changed.
    const paths = await pathsUnder(root);
    await setAccessTimes(root, new Date(Date.UTC(2001, 0, 1)));
    const before = await accessTimes(paths);
    const repo = await freshRepo();
    await backup(repo, root, 2);
    await backup(repo, root, 0);
    assert.deepEqual(await accessTimes(paths), before);
  });

  void it('an unchanged re-backup reads no file and reuses every tree of its parent', async () => {
    // No access times frozen here: the first backup's reads must not change what the second sees.
    await setAccessTimes(root, new Date(Date.UTC(2001, 0, 1)));
    const repo = await freshRepo();
    const first = await backup(repo, root, 2);
    const writer = repo.writer();
    const archiver = new Archiver({ repo, writer, threads: 2, parentTree: first.tree });
    const again = await archiver.archive([root]);
    await writer.flush();
    assert.equal(
      await sourceTree(repo, again.tree, root),
      await sourceTree(repo, first.tree, root),
    );
    assert.equal(again.counters.filesUnmodified, expected.size);
    assert.equal(again.counters.filesNew + again.counters.filesChanged, 0);
    assert.equal(writer.stats.dataBlobs, 0);
    // Only the ancestors' trees ("/", "tmp", ...) may be saved again: /tmp changes meanwhile.
    assert.ok(writer.stats.treeBlobs <= root.split('/').length, `${writer.stats.treeBlobs} trees`);
  });

  void it('stops with INTERRUPTED when the signal fires, leaving no sealer behind', async () => {
    const repo = await freshRepo();
    const controller = new AbortController();
    const archiver = new Archiver({
      repo,
      writer: repo.writer({ signal: controller.signal }),
      threads: 2,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'bytes') controller.abort();
      },
    });
    await assert.rejects(archiver.archive([root]), (e) => isHoldfastError(e, 'INTERRUPTED'));
  });
});

/** A second repository with the same chunker and id keys, so trees compare by id. */
async function freshRepoSharingKeys(repo: Repository): Promise<Repository> {
  return Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
    packSize: 4 * MiB,
    contentKeysFrom: repo.config,
  });
}

/** Every path under `dir`, itself included. Listing moves directories' access times. */
async function pathsUnder(dir: string): Promise<string[]> {
  const paths: string[] = [];
  const visit = async (path: string): Promise<void> => {
    paths.push(path);
    if ((await lstat(path)).isDirectory())
      for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dir);
  return paths;
}

/** Sets every access time under `dir`, itself included, to `atime` (mtime kept). */
async function setAccessTimes(dir: string, atime: Date): Promise<void> {
  for (const path of await pathsUnder(dir)) await utimes(path, atime, (await lstat(path)).mtime);
}

/** The access times of `paths` (nanoseconds), read with lstat alone. */
async function accessTimes(paths: readonly string[]): Promise<bigint[]> {
  return Promise.all(paths.map(async (p) => (await lstat(p, { bigint: true })).atimeNs));
}

/** The tree id of the backed-up directory itself (not of its ancestors). */
async function sourceTree(
  repo: Repository,
  tree: BlobId,
  root: string,
): Promise<string | undefined> {
  const components = root
    .split('/')
    .filter((c) => c.length > 0)
    .map((c) => Buffer.from(c));
  return (await findNode(repo, tree, components))?.subtree;
}
