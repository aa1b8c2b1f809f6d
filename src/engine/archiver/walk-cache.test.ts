import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { BlobId, SnapshotId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { lsetxattr } from '../../sources/index.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { encodeTree } from '../format/index.js';
import { findNode, Repository } from '../repository/index.js';
import { Archiver } from './archiver.js';
import {
  loadWalkCache,
  saveWalkCache,
  WalkCache,
  walkContext,
  WalkRecorder,
  type WalkRecord,
} from './walk-cache.js';

const SNAPSHOT = 'ab'.repeat(32) as SnapshotId;
const OTHER_SNAPSHOT = 'cd'.repeat(32) as SnapshotId;
const CONTEXT = walkContext({
  program: 'test',
  targets: ['/x'],
  excludePatterns: [],
  excludeCaches: false,
  oneFileSystem: false,
  accounts: Buffer.alloc(32),
});

function record(digestByte: number, treeByte: string): WalkRecord {
  return { digest: Buffer.alloc(32, digestByte), tree: treeByte.repeat(64) as BlobId };
}

async function freshRepo(): Promise<Repository> {
  return Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
    chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 },
  });
}

void describe('walk cache encoding', () => {
  const recorder = new WalkRecorder();
  recorder.add(Buffer.from('/x'), record(1, 'a'));
  recorder.add(Buffer.from([0x2f, 0x78, 0x2f, 0xff, 0xfe]), record(2, 'b'));
  const plain = recorder.encode(SNAPSHOT, CONTEXT);

  void it('gives back every record by path, raw name bytes included', () => {
    const cache = WalkCache.decode(plain, SNAPSHOT, CONTEXT);
    assert.ok(cache);
    assert.equal(cache.size, 2);
    assert.deepEqual(cache.get(Buffer.from('/x')), record(1, 'a'));
    assert.deepEqual(cache.get(Buffer.from([0x2f, 0x78, 0x2f, 0xff, 0xfe])), record(2, 'b'));
    assert.equal(cache.get(Buffer.from('/y')), undefined);
  });

  void it('is not used for another parent snapshot or another context', () => {
    assert.equal(WalkCache.decode(plain, OTHER_SNAPSHOT, CONTEXT), undefined);
    assert.equal(WalkCache.decode(plain, SNAPSHOT, Buffer.alloc(32)), undefined);
    const other = walkContext({
      program: 'test',
      targets: ['/x'],
      excludePatterns: ['*.o'],
      excludeCaches: false,
      oneFileSystem: false,
      accounts: Buffer.alloc(32),
    });
    assert.notDeepEqual(other, CONTEXT);
  });

  void it('refuses a truncated or extended plaintext', () => {
    for (let cut = 1; cut < plain.length; cut += 7)
      assert.equal(
        WalkCache.decode(plain.subarray(0, cut), SNAPSHOT, CONTEXT),
        undefined,
        `${cut}`,
      );
    const longer = Buffer.concat([plain, Buffer.from([0])]);
    assert.equal(WalkCache.decode(longer, SNAPSHOT, CONTEXT), undefined);
  });
});

void describe('walk recorder', () => {
  void it('encodes as many records as fill several blocks, each given back', () => {
    const recorder = new WalkRecorder();
    const paths: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      // Long enough (≈ 100 bytes a record) for the records to span several 64 KiB blocks.
      const path = Buffer.from(`/src/${'d'.repeat(i % 40)}/${i}`);
      paths.push(path);
      recorder.add(path, record(i % 256, (i % 16).toString(16)));
    }
    assert.equal(recorder.size, 3000);
    const cache = WalkCache.decode(recorder.encode(SNAPSHOT, CONTEXT), SNAPSHOT, CONTEXT);
    assert.ok(cache);
    assert.equal(cache.size, 3000);
    for (const [i, path] of paths.entries())
      assert.deepEqual(cache.get(path), record(i % 256, (i % 16).toString(16)), `${i}`);
  });

  void it('keeps no reference to the buffers paths and digests are views of', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const recorder = new WalkRecorder();
    // A path and a digest cut out of larger buffers, as Node's small-buffer pool does; in a
    // function of its own so that no variable of this one still holds the last buffer.
    const addViews = (i: number): WeakRef<ArrayBuffer> => {
      const big = Buffer.alloc(64 * 1024, 0x61);
      big.write(`/dir${i}`, 100);
      recorder.add(big.subarray(100, 105), {
        digest: big.subarray(1000, 1032),
        tree: 'ab'.repeat(32) as BlobId,
      });
      return new WeakRef(big.buffer);
    };
    const refs = Array.from({ length: 8 }, (_, i) => addViews(i));
    // WeakRefs made in this turn hold their targets until it ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const alive = refs.filter((ref) => ref.deref() !== undefined).length;
    assert.equal(alive, 0, `${alive} of 8 buffers still referenced`);
    const cache = WalkCache.decode(recorder.encode(SNAPSHOT, CONTEXT), SNAPSHOT, CONTEXT);
    assert.equal(cache?.get(Buffer.from('/dir7'))?.digest.toString(), 'a'.repeat(32));
  });
});

/** A repository, a recorder with one record, and a list collecting the problems reported. */
async function setup(): Promise<{
  repo: Repository;
  recorder: WalkRecorder;
  problems: string[];
  onProblem: (m: string) => void;
}> {
  const recorder = new WalkRecorder();
  recorder.add(Buffer.from('/x'), record(1, 'a'));
  const problems: string[] = [];
  return { repo: await freshRepo(), recorder, problems, onProblem: (m) => void problems.push(m) };
}

void describe('walk cache files', () => {
  let dir = '';
  before(async () => {
    dir = await makeTempDir('holdfast-walk-cache-');
  });
  after(() => removeTempDir(dir));

  void it('are sealed: a tampered or foreign file is ignored and removed, never trusted', async () => {
    const { repo, recorder, problems, onProblem } = await setup();
    await saveWalkCache(dir, repo, SNAPSHOT, CONTEXT, recorder, undefined, onProblem);
    const loaded = await loadWalkCache(dir, repo, SNAPSHOT, CONTEXT, onProblem);
    assert.deepEqual(loaded?.get(Buffer.from('/x')), record(1, 'a'));
    // Plaintext nowhere on disk.
    assert.equal((await readFile(join(dir, SNAPSHOT))).includes(Buffer.from('/x')), false);

    const other = await freshRepo();
    assert.equal(await loadWalkCache(dir, other, SNAPSHOT, CONTEXT, onProblem), undefined);
    assert.equal(problems.length, 1);
    assert.deepEqual(await readdir(dir), [], 'the file that did not open is removed');

    await saveWalkCache(dir, repo, SNAPSHOT, CONTEXT, recorder, undefined, onProblem);
    const bytes = await readFile(join(dir, SNAPSHOT));
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 1;
    await writeFile(join(dir, SNAPSHOT), bytes);
    assert.equal(await loadWalkCache(dir, repo, SNAPSHOT, CONTEXT, onProblem), undefined);
    assert.equal(problems.length, 2);
    assert.match(problems[1]!, /walk cache .* ignored/);
  });

  void it("replace the parent's file, and are absent rather than wrong after a failed write", async () => {
    const { repo, recorder, problems, onProblem } = await setup();
    await saveWalkCache(dir, repo, SNAPSHOT, CONTEXT, recorder, undefined, onProblem);
    await saveWalkCache(dir, repo, OTHER_SNAPSHOT, CONTEXT, recorder, SNAPSHOT, onProblem);
    assert.deepEqual(await readdir(dir), [OTHER_SNAPSHOT]);
    // A directory that cannot be created (a file is in the way): reported, nothing thrown.
    const blocked = join(dir, OTHER_SNAPSHOT, 'walk');
    await saveWalkCache(blocked, repo, SNAPSHOT, CONTEXT, recorder, undefined, onProblem);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /cannot write the walk cache/);
    await rm(join(dir, OTHER_SNAPSHOT));
  });

  void it('removes day-old files of snapshots the repository no longer lists', async () => {
    const repo = await freshRepo();
    const w = repo.writer();
    const tree = (await w.save('tree', encodeTree({ nodes: [] }))).id;
    await w.flush();
    const kept = await repo.saveSnapshot({
      time: new Date().toISOString(),
      tree,
      paths: ['/x'],
      hostname: 'h',
      username: 'u',
      program_version: 't',
    });
    const old = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    const files = { kept, gone: 'ef'.repeat(32), young: '01'.repeat(32), tmp: 'tmp-0123' };
    for (const name of Object.values(files)) {
      await writeFile(join(dir, name), 'x');
      if (name !== files.young) await utimes(join(dir, name), old, old);
    }
    const problems: string[] = [];
    await saveWalkCache(dir, repo, SNAPSHOT, CONTEXT, new WalkRecorder(), undefined, (m) =>
      problems.push(m),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual((await readdir(dir)).sort(), [SNAPSHOT, files.kept, files.young].sort());
  });
});

/**
 * The archiver with and without the walk cache, on the same source and the same parent: the
 * trees must be identical, whatever changed between the backups.
 */
void describe('Archiver with a walk cache', () => {
  let root = '';
  let repo: Repository;
  /** The first backup's snapshot tree (parent of the others) and the subtree of `root` in it. */
  let parentTree: BlobId;
  let parentSubtree: BlobId;
  let cache: WalkCache;
  /** Trees read for the directories on the way to `root` ("/", "tmp", ...), cache or not. */
  let ancestors = 0;

  const backup = async (
    options: {
      parentTree?: BlobId;
      walkCache?: WalkCache;
      exclude?: (path: Buffer, isDir: boolean) => boolean;
    } = {},
  ): Promise<{ root: BlobId; tree: BlobId; recorder: WalkRecorder; treesRead: number }> => {
    const recorder = new WalkRecorder();
    let treesRead = 0;
    const loadTree = repo.loadTree.bind(repo);
    repo.loadTree = (id, signal) => {
      treesRead++;
      return loadTree(id, signal);
    };
    let result;
    try {
      const writer = repo.writer();
      const archiver = new Archiver({
        repo,
        writer,
        threads: 2,
        walkRecorder: recorder,
        ...options,
      });
      result = await archiver.archive([root]);
      await writer.flush();
    } finally {
      repo.loadTree = loadTree;
    }
    const components = root
      .split('/')
      .filter((c) => c.length > 0)
      .map((c) => Buffer.from(c));
    ancestors = components.length;
    const tree = (await findNode(repo, result.tree, components))!.subtree!;
    return { root: result.tree, tree, recorder, treesRead };
  };

  /** The subtree of `root` backed up with the cache and without it: equal, or the test fails. */
  const both = async (
    exclude?: (path: Buffer, isDir: boolean) => boolean,
  ): Promise<{ tree: BlobId; treesRead: number; withoutRead: number }> => {
    const options = { parentTree, ...(exclude && { exclude }) };
    // A first look settles access times the walk itself moves (readlink under relatime), so
    // that the two backups compared see the same ones.
    await backup(options);
    const without = await backup(options);
    const withCache = await backup({ ...options, walkCache: cache });
    assert.equal(withCache.tree, without.tree, 'the walk cache changed the snapshot');
    return {
      tree: withCache.tree,
      treesRead: withCache.treesRead - ancestors,
      withoutRead: without.treesRead - ancestors,
    };
  };

  beforeEach(async () => {
    root = await makeTempDir('holdfast-walk-src-');
    for (const d of ['a/b/c', 'a/d', 'e']) await mkdir(join(root, d), { recursive: true });
    for (const f of ['a/b/c/1', 'a/b/c/2', 'a/b/3', 'a/d/4', 'e/5', '6'])
      await writeFile(join(root, f), randomBytes(300));
    await symlink('a/b', join(root, 'link'));
    repo = await freshRepo();
    const first = await backup();
    parentTree = first.root;
    parentSubtree = first.tree;
    // The cache as the backup of `parentTree` recorded it.
    cache = WalkCache.decode(first.recorder.encode(SNAPSHOT, CONTEXT), SNAPSHOT, CONTEXT)!;
    assert.equal(cache.size, 6, 'one record per directory');
  });
  afterEach(async () => {
    if (root) await removeTempDir(root);
  });

  void it('takes every tree over in an unchanged backup without reading one', async () => {
    const { tree, treesRead, withoutRead } = await both();
    assert.equal(tree, parentSubtree);
    assert.equal(treesRead, 0);
    assert.equal(withoutRead, 6);
  });

  void it('sees a changed file deep down and reads only the trees above it', async () => {
    await writeFile(join(root, 'a/b/c/1'), randomBytes(300));
    const { tree, treesRead } = await both();
    assert.notEqual(tree, parentSubtree);
    // The trees of a/b/c, a/b, a and root; not those of a/d or e.
    assert.equal(treesRead, 4);
  });

  void it('sees changed metadata: mode, extended attributes, symlink targets', async () => {
    await chmod(join(root, 'a/d/4'), 0o600);
    assert.notEqual((await both()).tree, parentSubtree);
    await chmod(join(root, 'a/d/4'), 0o644);
    lsetxattr(Buffer.from(join(root, 'e/5')), Buffer.from('user.k'), Buffer.from('v'));
    assert.notEqual((await both()).tree, parentSubtree);
    await unlink(join(root, 'link'));
    await symlink('a/d', join(root, 'link'));
    await both();
  });

  void it('sees entries added, removed and renamed', async () => {
    await writeFile(join(root, 'a/b/c/new'), 'x');
    await rm(join(root, 'a/d'), { recursive: true });
    await rename(join(root, 'e/5'), join(root, 'e/7'));
    await mkdir(join(root, 'e/f'));
    const { tree } = await both();
    assert.notEqual(tree, parentSubtree);
  });

  void it('takes trees over when only access times moved', async () => {
    const file = join(root, 'a/b/c/2');
    const dir = join(root, 'a/d');
    const before = [statSync(file).atimeMs, statSync(dir).atimeMs];
    await new Promise((r) => setTimeout(r, 20));
    // Plain reads (no O_NOATIME) move access times once under relatime, not change times.
    await readFile(file);
    await readdir(dir);
    const moved = [statSync(file).atimeMs, statSync(dir).atimeMs];
    assert.ok(
      moved[0]! > before[0]! && moved[1]! > before[1]!,
      'the file system of the temporary directory must record access times (relatime)',
    );
    const { tree, treesRead } = await both();
    assert.equal(tree, parentSubtree);
    assert.equal(treesRead, 0);
  });

  void it('honours exclusions in the directories it takes over', async () => {
    const exclude = (path: Buffer): boolean => /\/(3|d)$/.test(path.toString());
    const first = await backup({ exclude });
    parentTree = first.root;
    parentSubtree = first.tree;
    cache = WalkCache.decode(first.recorder.encode(SNAPSHOT, CONTEXT), SNAPSHOT, CONTEXT)!;
    assert.equal(cache.size, 5, 'a/d is not walked');
    const unchanged = await both(exclude);
    assert.equal(unchanged.tree, parentSubtree);
    assert.equal(unchanged.treesRead, 0);
    await writeFile(join(root, 'a/b/3'), 'excluded, so no change');
    await writeFile(join(root, 'a/d/4'), 'excluded, so no change');
    await writeFile(join(root, 'a/b/c/2'), 'changed');
    const changed = await both(exclude);
    assert.notEqual(changed.tree, parentSubtree);
  });

  void it('compares a directory whose recorded digest differs entry by entry', async () => {
    const recorder = new WalkRecorder();
    for (const [path, digest] of [
      [root, 0],
      [join(root, 'a'), 1],
    ] as const) {
      const kept = cache.get(Buffer.from(path))!;
      recorder.add(Buffer.from(path), { digest: Buffer.alloc(32, digest), tree: kept.tree });
    }
    cache = WalkCache.decode(recorder.encode(SNAPSHOT, CONTEXT), SNAPSHOT, CONTEXT)!;
    const { tree, treesRead } = await both();
    assert.equal(tree, parentSubtree);
    // Root and a are compared with their recorded trees, the rest (no records) with the parent's.
    assert.equal(treesRead, 6);
  });
});
