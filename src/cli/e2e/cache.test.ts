/**
 * End to end: the local metadata cache with a repository on a holdfast repository server
 * (`rest:`). Listing twice fills the cache and gives the answers of --no-cache; a damaged cached
 * index is noticed, reported and replaced; a forgotten snapshot never comes back from the cache;
 * --no-cache and local repositories leave the cache directory alone. Backups keep a walk cache
 * there (for local repositories too): one sealed file per snapshot, replaced by the next backup.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHexId } from '../../core/index.js';
import { CliRepo } from '../../testing/cli-harness.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import { startRestServer, type RestServerFixture } from '../../testing/rest-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

void describe('local metadata cache', () => {
  let tmp: string;
  let data: string;
  let server: RestServerFixture;
  before(async () => {
    tmp = await makeTempDir('cache-e2e');
    server = await startRestServer();
    data = join(tmp, 'data');
    await mkdir(join(data, 'dir', 'deeper'), { recursive: true });
    await writeSeededFile(join(data, 'large.bin'), 2 * 1024 * 1024 + 5, 'cache-large');
    for (let i = 0; i < 12; i++)
      await writeFile(join(data, 'dir', `small-${i}`), seededBytes(50 * i + 1, `cache-${i}`));
    await writeFile(join(data, 'dir', 'deeper', 'leaf'), 'leaf\n');
  });
  after(async () => {
    await server.stop();
    await removeTempDir(tmp);
  });

  void it('fills the cache, answers like --no-cache, and survives a damaged entry', async () => {
    const repo = new CliRepo(server.location('cached'));
    const cacheDir = join(tmp, 'cache');
    await repo.init();
    await repo.backup([data]);
    await writeFile(join(data, 'dir', 'small-1'), 'changed\n');
    await repo.backup([data]);

    const uncachedSnapshots = (await repo.ok(['--no-cache', 'snapshots', '--json'])).stdout;
    const uncachedLs = (await repo.ok(['--no-cache', 'ls', 'latest'])).stdout;
    for (let round = 0; round < 2; round++) {
      const snaps = await repo.ok(['--cache-dir', cacheDir, 'snapshots', '--json']);
      assert.equal(snaps.stdout, uncachedSnapshots);
      const ls = await repo.ok(['--cache-dir', cacheDir, 'ls', 'latest']);
      assert.equal(ls.stdout, uncachedLs);
      assert.doesNotMatch(snaps.stderr + ls.stderr, /warning/);
    }
    assert.match(
      await readFile(join(cacheDir, 'CACHEDIR.TAG'), 'utf8'),
      /^Signature: 8a477f597d28d172789f06886806bc55/,
    );
    const ids = (await readdir(cacheDir)).filter(isHexId);
    assert.equal(ids.length, 1);
    const repoCache = join(cacheDir, ids[0]!);
    const indexes = await readdir(join(repoCache, 'index'));
    assert.ok(indexes.length >= 2, `cached indexes: ${indexes.join(' ')}`);
    assert.equal((await readdir(join(repoCache, 'snapshot'))).length, 2);
    assert.ok((await readdir(join(repoCache, 'pack'))).length >= 1, 'a tree pack is cached');
    assert.equal((await stat(repoCache)).mode & 0o777, 0o700);

    // Damage one cached index: the command still answers right, and says what it did.
    const victim = join(repoCache, 'index', indexes[0]!);
    const bytes = await readFile(victim);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x40;
    await writeFile(victim, bytes);
    const after = await repo.ok(['--cache-dir', cacheDir, 'ls', 'latest']);
    assert.equal(after.stdout, uncachedLs);
    assert.match(after.stderr, /warning: cached index [0-9a-f]{64} .* is damaged/);
    assert.notDeepEqual(await readFile(victim), bytes, 'the good copy replaced the damaged one');
    const again = await repo.ok(['--cache-dir', cacheDir, 'ls', 'latest']);
    assert.doesNotMatch(again.stderr, /warning/);
    await repo.ok(['--cache-dir', cacheDir, 'check']);
  });

  void it('never shows a snapshot that another client forgot', async () => {
    const repo = new CliRepo(server.location('forgotten'));
    const cacheDir = join(tmp, 'cache-forget');
    await repo.init();
    await repo.backup([join(data, 'dir')]);
    await repo.backup([join(data, 'large.bin')]);
    const before = await repo.ok(['--cache-dir', cacheDir, 'snapshots', '--json']);
    const ids = (JSON.parse(before.stdout) as { id: string }[]).map((s) => s.id);
    assert.equal(ids.length, 2);
    await repo.ok(['--no-cache', 'forget', ids[0]!, '--prune']);
    const afterForget = await repo.ok(['--cache-dir', cacheDir, 'snapshots', '--json']);
    assert.deepEqual(
      (JSON.parse(afterForget.stdout) as { id: string }[]).map((s) => s.id),
      [ids[1]],
    );
    const repoCache = join(cacheDir, (await readdir(cacheDir)).find(isHexId)!);
    assert.deepEqual(await readdir(join(repoCache, 'snapshot')), [ids[1]]);
  });

  void it('leaves the cache alone with --no-cache and for local repositories', async () => {
    const remote = new CliRepo(server.location('uncached'));
    const unused = join(tmp, 'cache-unused');
    await remote.init();
    await remote.backup([join(data, 'dir')]);
    await remote.ok(['--no-cache', '--cache-dir', unused, 'ls', 'latest']);
    const local = new CliRepo(join(tmp, 'local-repo'));
    await local.init();
    await local.backup([join(data, 'dir')]);
    await local.ok(['--cache-dir', unused, 'ls', 'latest']);
    await local.ok(['ls', 'latest'], { env: { HOLDFAST_CACHE_DIR: unused } });
    assert.equal(await exists(unused), false);
  });

  void it('keeps one walk cache per lineage for the next backup, local repositories too', async () => {
    const repo = new CliRepo(join(tmp, 'walk-repo'));
    await repo.init();
    const cacheDir = join(tmp, 'walk-cache');
    const env = { env: { HOLDFAST_CACHE_DIR: cacheDir } };
    const walkFiles = async (): Promise<string[]> =>
      readdir(join(cacheDir, (await readdir(cacheDir)).find(isHexId)!, 'walk'));
    await repo.backup([data], env);
    await repo.backup([data], env);
    await repo.ok(['backup', '--dry-run', data], env);
    const [, second] = await repo.snapshots();
    // The second backup replaced the first one's; the dry run wrote none.
    assert.deepEqual(await walkFiles(), [second!.id]);

    // A damaged walk cache is reported, removed and replaced; the snapshot is unaffected.
    const walk = join(cacheDir, (await readdir(cacheDir)).find(isHexId)!, 'walk', second!.id);
    const bytes = await readFile(walk);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(walk, bytes);
    const leaf = join(data, 'dir', 'deeper', 'leaf');
    await writeFile(leaf, 'leaf, changed\n');
    const r = await repo.ok(['backup', data], env);
    assert.match(r.stderr, /walk cache .* ignored and removed/);
    const third = (await repo.snapshots()).at(-1)!;
    assert.deepEqual(await walkFiles(), [third.id]);
    assert.equal((await repo.ok(['dump', 'latest', leaf])).stdout, 'leaf, changed\n');

    await repo.ok(['--no-cache', 'backup', data], env);
    assert.deepEqual(await walkFiles(), [third.id], '--no-cache neither reads nor writes it');
    await writeFile(leaf, 'leaf\n');
  });

  void it('works without caching when the cache directory cannot be created', async () => {
    const repo = new CliRepo(server.location('unwritable'));
    await repo.init();
    await repo.backup([join(data, 'dir')]);
    const blocker = join(tmp, 'not-a-directory');
    await writeFile(blocker, 'a file where the cache should go\n');
    const expected = (await repo.ok(['--no-cache', 'ls', 'latest'])).stdout;
    const r = await repo.ok(['--cache-dir', join(blocker, 'cache'), 'ls', 'latest']);
    assert.equal(r.stdout, expected);
    assert.equal(r.stderr.match(/warning: cannot write to the cache/g)?.length, 1, r.stderr);
    await repo.backup([join(data, 'dir')], { env: { HOLDFAST_CACHE_DIR: join(blocker, 'cache') } });
  });
});
