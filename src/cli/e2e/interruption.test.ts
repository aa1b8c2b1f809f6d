/**
 * End to end with the real binary: a backup killed with SIGKILL at random moments leaves a
 * repository that passes `check --read-data`, whose earlier snapshot restores byte for byte, and
 * that the next backup uses normally. SIGINT stops a backup (of files, of stdin, of a command)
 * with exit 130 and writes no snapshot.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnBinary, waitForExit, type BinaryResult } from '../../testing/binary.js';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import { listFiles } from '../../testing/repo-files.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

const MiB = 1024 * 1024;
/** Generous bound for "exits within a few seconds": a liveness check, not a benchmark. */
const EXIT_DEADLINE_MS = 15_000;

/** Fills `dir` with `files` seeded files of 1–2 MiB: new content for every distinct `seed`. */
async function writeFreshData(dir: string, files: number, seed: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < files; i++) {
    await writeSeededFile(join(dir, `f${i}.bin`), MiB + ((i * 104_729) % MiB), `${seed}-${i}`);
  }
}

async function countPacks(repo: string): Promise<number> {
  return (await listFiles(join(repo, 'data'))).length;
}

/** Waits until the repository holds more packs than `before`: the backup is mid-way. */
async function untilNewPack(repo: string, before: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1000 && child.exitCode === null; i++) {
    if ((await countPacks(repo)) > before) return;
    await sleep(10);
  }
}

/** Waits for the process to exit; SIGKILLs it and fails if it outlives the deadline. */
async function exitWithin(child: ChildProcess, ms: number): Promise<BinaryResult> {
  const exited = waitForExit(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  try {
    const result = await exited;
    assert.notEqual(result.signal, 'SIGKILL', `did not exit within ${ms} ms of SIGINT`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

void describe('interrupted backups', () => {
  let tmp: string;
  let base: string;
  let repo: CliRepo;
  let firstSnapshot: string;

  before(async () => {
    tmp = await makeTempDir('crash');
    base = join(tmp, 'base');
    await writeFreshData(base, 12, 'base');
    repo = new CliRepo(join(tmp, 'repo'));
    // Small packs: a killed backup has finished some packs and is in the middle of others.
    await repo.init('--pack-size', '4MiB');
    firstSnapshot = (await repo.backup([base])).snapshot_id ?? '';
    assert.ok(firstSnapshot);
  });
  after(() => removeTempDir(tmp));

  void it('SIGKILL at random moments: check passes, the earlier snapshot restores', async () => {
    const fresh = join(tmp, 'fresh');
    // How long one uninterrupted round takes on this machine bounds the random delays, so that
    // most kills land mid-backup however fast the machine is (a delay, never an assertion).
    await writeFreshData(fresh, 24, 'calibration');
    const started = performance.now();
    const full = await waitForExit(spawnBinary(['backup', base, fresh], { env: repo.env() }));
    assert.equal(full.code, 0, full.stderr);
    const maxDelay = Math.max(100, Math.min(800, 0.9 * (performance.now() - started)));

    const rounds: string[] = [];
    let killedMidway = 0;
    for (let round = 0; round < 8 && killedMidway < 4; round++) {
      await writeFreshData(fresh, 24, `round-${round}`);
      const delay = Math.round(50 + Math.random() * (maxDelay - 50));
      const child = spawnBinary(['backup', base, fresh], { env: repo.env() });
      const exited = waitForExit(child);
      await sleep(delay);
      child.kill('SIGKILL');
      const result = await exited;
      rounds.push(`round ${round}: killed after ${delay} ms → ${result.signal ?? result.code}`);
      if (result.signal === 'SIGKILL') killedMidway++;
      else assert.equal(result.code, 0, `${rounds.join('\n')}\n${result.stderr}`);

      const check = await repo.run(['check', '--read-data']);
      assert.equal(check.code, 0, `${rounds.join('\n')}\n${describeResult(['check'], check)}`);
    }
    assert.ok(killedMidway >= 3, `too few rounds were really interrupted:\n${rounds.join('\n')}`);

    // The snapshot from before the kills restores byte for byte.
    const target = join(tmp, 'restore-first');
    await repo.ok(['restore', firstSnapshot, '--target', target, '--verify']);
    assert.equal(await rsyncDifferences(base, join(target, base)), '');

    // The next backup works despite stale locks and orphaned packs, and is itself sound.
    const count = (await repo.snapshots()).length;
    const next = await repo.backup([base, fresh]);
    assert.equal(next.total_files_processed, 12 + 24);
    assert.equal((await repo.snapshots()).length, count + 1);
    await repo.ok(['check', '--read-data']);
    const target2 = join(tmp, 'restore-next');
    await repo.ok(['restore', 'latest', '--target', target2]);
    assert.equal(await rsyncDifferences(fresh, join(target2, fresh)), '');
    assert.equal(await rsyncDifferences(base, join(target2, base)), '');
  });

  void it('SIGINT during a file backup: exit 130, no snapshot, check passes', async () => {
    const fresh = join(tmp, 'sigint-files');
    await writeFreshData(fresh, 32, 'sigint');
    const snapshotsBefore = (await repo.snapshots()).length;
    const packsBefore = await countPacks(repo.path);
    const child = spawnBinary(['backup', base, fresh], { env: repo.env() });
    await untilNewPack(repo.path, packsBefore, child);
    assert.equal(child.exitCode, null, 'the backup was still running when interrupted');
    child.kill('SIGINT');
    const result = await exitWithin(child, EXIT_DEADLINE_MS);
    assert.equal(result.code, 130, result.stderr);
    assert.equal((await repo.snapshots()).length, snapshotsBefore, 'no new snapshot');
    await repo.ok(['check', '--read-data']);
  });

  void it('SIGINT while stdin is still open: exit 130, no snapshot', async () => {
    const snapshotsBefore = (await repo.snapshots()).length;
    const child = spawnBinary(['backup', '--stdin', '--stdin-filename', 'endless'], {
      env: repo.env(),
    });
    child.stdin?.on('error', () => undefined); // EPIPE once the process is gone
    const packsBefore = await countPacks(repo.path);
    // Write and never end: once the data is in the pipe and a pack is out, the backup waits.
    await new Promise((resolve) => child.stdin?.write(seededBytes(12 * MiB, 'stdin'), resolve));
    await untilNewPack(repo.path, packsBefore, child);
    await sleep(300);
    assert.equal(child.exitCode, null, 'the backup was still running when interrupted');
    child.kill('SIGINT');
    const result = await exitWithin(child, EXIT_DEADLINE_MS);
    child.stdin?.destroy();
    assert.equal(result.code, 130, result.stderr);
    assert.equal((await repo.snapshots()).length, snapshotsBefore, 'no new snapshot');
    await repo.ok(['check']);
  });

  void it('SIGINT while the command still runs: exit 130, no snapshot', async () => {
    const snapshotsBefore = (await repo.snapshots()).length;
    const packsBefore = await countPacks(repo.path);
    // A grandchild (like one stage of a dump pipeline) keeps the output open, silent: stopping
    // the command itself does not end the stream. Its pid is recorded so the test can end it;
    // its stderr goes elsewhere, or the binary's stderr pipe would stay open after it exits.
    const pidFile = join(tmp, 'sleeper.pid');
    const script = `head -c 12582912 /dev/urandom; sleep 120 2>/dev/null & echo $! > ${pidFile}; wait`;
    const child = spawnBinary(['backup', '--stdin-from-command', '--', 'sh', '-c', script], {
      env: repo.env(),
    });
    let result: BinaryResult;
    try {
      await untilNewPack(repo.path, packsBefore, child);
      // The pid file appears once all output is written: from then on the command is silent.
      for (let i = 0; i < 500 && !(await readFile(pidFile).catch(() => undefined)); i++) {
        await sleep(10);
      }
      await sleep(300);
      assert.equal(child.exitCode, null, 'the backup was still running when interrupted');
      child.kill('SIGINT');
      result = await exitWithin(child, EXIT_DEADLINE_MS);
    } finally {
      const sleeper = Number(await readFile(pidFile, 'utf8').catch(() => ''));
      if (sleeper > 0) process.kill(sleeper, 'SIGKILL');
    }
    assert.equal(result.code, 130, result.stderr);
    assert.equal((await repo.snapshots()).length, snapshotsBefore, 'no new snapshot');
    await repo.ok(['check']);
  });
});
