/**
 * End to end: --threads and HOLDFAST_THREADS bound the file sealers a backup makes (native
 * threads: it starts no worker thread), the worker threads a restore starts (counted by the one
 * place every pool starts its threads) and the packs `check --read-data` checks at once (2 per
 * thread, each with a native checker: no worker thread either), the flag wins over the
 * variable, the data round-trips, and a bad value is a usage error before anything is touched.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerThreadsStarted } from '../../core/index.js';
import { fileSealersMade, packCheckersMade, QUEUED } from '../../engine/index.js';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

/** Runs a check and returns how many pack checkers it made; it must start no worker thread. */
async function checkersOf(run: () => Promise<unknown>): Promise<number> {
  const made = packCheckersMade();
  assert.equal(await threadsOf(run), 0, 'worker threads a check started');
  return packCheckersMade() - made;
}

/** Runs a backup and returns how many file sealers it made; it must start no worker thread. */
async function sealersOf(run: () => Promise<unknown>): Promise<number> {
  const made = fileSealersMade();
  assert.equal(await threadsOf(run), 0, 'worker threads a backup started');
  return fileSealersMade() - made;
}

/** Runs `run` and returns how many worker threads it started. */
async function threadsOf(run: () => Promise<unknown>): Promise<number> {
  const before = workerThreadsStarted();
  await run();
  return workerThreadsStarted() - before;
}

void describe('--threads', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  let restores = 0;

  before(async () => {
    tmp = await makeTempDir('threads');
    src = join(tmp, 'src');
    // Enough files for several jobs, and a file large enough to be split among restore workers.
    for (let d = 0; d < 8; d++) {
      await mkdir(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++)
        await writeFile(join(src, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`.repeat(50 + f));
    }
    await writeFile(join(src, 'large.bin'), seededBytes(12 * 1024 * 1024, 'threads'));
    repo = new CliRepo(join(tmp, 'repo'));
    // 4 MiB packs: the 12 MiB file alone fills more packs than two threads check at once.
    await repo.init('--pack-size', '4MiB');
  });
  after(() => removeTempDir(tmp));

  const restoreInto = async (argv: string[]): Promise<string> => {
    const target = join(tmp, `restore-${restores++}`);
    await repo.ok([...argv, 'restore', 'latest', '--target', target]);
    return target;
  };

  void it('backup, restore and check use one thread each with --threads 1', async () => {
    // On a single-core machine one thread is the default: the bound would go unseen.
    assert.ok(availableParallelism() >= 2, 'this test needs at least two CPUs');
    assert.equal(await sealersOf(() => repo.ok(['--threads', '1', 'backup', src])), 1);
    let target = '';
    const restored = await threadsOf(async () => (target = await restoreInto(['--threads', '1'])));
    assert.equal(restored, 1);
    assert.equal(await rsyncDifferences(src, join(target, src)), '');
    const checkers = await checkersOf(() => repo.ok(['--threads', '1', 'check', '--read-data']));
    assert.equal(checkers, QUEUED);
  });

  void it('HOLDFAST_THREADS sets the default, and --threads wins over it', async () => {
    const env = { HOLDFAST_THREADS: '1' };
    await writeFile(join(src, 'd0', 'changed.txt'), 'new content\n');
    assert.equal(await sealersOf(() => repo.ok(['backup', '--force', src], { env })), 1);
    assert.equal(await checkersOf(() => repo.ok(['check', '--read-data'], { env })), QUEUED);
    const wide = { HOLDFAST_THREADS: '2' };
    assert.equal(
      await checkersOf(() => repo.ok(['check', '--read-data'], { env: wide })),
      2 * QUEUED,
    );
    assert.equal(
      await checkersOf(() => repo.ok(['--threads', '1', 'check', '--read-data'], { env: wide })),
      QUEUED,
    );
  });

  void it('a bad value is a usage error naming where it came from', async () => {
    const before = await repo.snapshots();
    for (const bad of ['0', '-2', '1.5', 'many', '257']) {
      const r = await repo.run(['--threads', bad, 'backup', src]);
      assert.equal(r.code, 2, describeResult(['--threads', bad], r));
      assert.match(r.stderr, /invalid --threads/);
    }
    const r = await repo.run(['restore', 'latest', '--target', join(tmp, 'never')], {
      env: { HOLDFAST_THREADS: 'lots' },
    });
    assert.equal(r.code, 2, describeResult(['restore'], r));
    assert.match(r.stderr, /invalid HOLDFAST_THREADS "lots"/);
    assert.deepEqual(await repo.snapshots(), before);
  });
});
