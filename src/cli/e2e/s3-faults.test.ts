/**
 * End to end: the S3 gateway dies in the middle of a backup (SIGKILL).
 * - It comes back soon: the backup either finishes through retries or fails with exit 20; either
 *   way `check` passes and the next backup adds less than everything (what was uploaded is reused).
 * - It stays down: the backup warns at each retry, then exits 20 naming the storage, and writes no
 *   snapshot. Once the gateway is back, the lock it left blocks nothing, `check --read-data`
 *   passes, the next backup indexes the packs uploaded before the outage from the local pack
 *   journal and reuses them (no `repair index` needed), and `unlock` removes the lock.
 * Uses the spare gateway of scripts/ceph-rgw-up.sh, so other S3 tests keep theirs; the two tests
 * share it and therefore live in one file (files run in parallel, the tests of a file in turn).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { spawnBinary, waitForExit } from '../../testing/binary.js';
import { CliRepo, parseSummary } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { describeWithS3, s3Env, testS3Store, uniqueBucket } from '../../testing/s3-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import type { ObjectKind, ObjectStore } from '../../storage/index.js';

const execFileP = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

async function names(store: ObjectStore, kind: ObjectKind): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(kind)) out.push(info.name);
  return out;
}

/** Waits until the first pack of a backup is stored, so a kill lands in the middle. */
async function firstPack(store: ObjectStore): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await names(store, 'pack')).length > 0) return;
    await delay(50);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describeWithS3('S3 gateway killed during a backup', (server) => {
  const env = s3Env(server);
  const dir = server.rgwDir;
  let tmp: string;
  let endpoint: string;
  const pidFile = () => join(dir ?? '', 'run', 'client.rgw.spare.pid');

  async function startGateway(): Promise<void> {
    await execFileP('timeout', [
      '60',
      'radosgw',
      '-c',
      join(dir!, 'ceph.conf'),
      '-n',
      'client.rgw.spare',
    ]);
    for (let i = 0; i < 300; i++) {
      if (
        await fetch(endpoint).then(
          () => true,
          () => false,
        )
      )
        return;
      await delay(100);
    }
    throw new Error('the spare gateway did not come up');
  }

  async function killGateway(signal: NodeJS.Signals): Promise<void> {
    const pid = Number((await readFile(pidFile(), 'utf8')).trim());
    process.kill(pid, signal);
    for (let i = 0; i < 200 && alive(pid); i++) await delay(50);
  }

  before(async () => {
    if (!dir) {
      assert.ok(!process.env.CI, 'HOLDFAST_TEST_RGW_DIR must be set under CI');
      return;
    }
    endpoint = (await readFile(join(dir, 'spare-endpoint'), 'utf8')).trim();
    await startGateway();
    tmp = await makeTempDir('s3-fault');
    await mkdir(join(tmp, 'src'));
    for (let i = 0; i < 6; i++)
      await writeFile(join(tmp, 'src', `f${i}`), seededBytes(2_000_000, `fault-${i}`));
  });
  after(async () => {
    if (!dir) return;
    await killGateway('SIGTERM').catch(() => undefined);
    await removeTempDir(tmp);
  });

  void it('retries or exits 20; check passes; the next backup reuses what was uploaded', async (t) => {
    if (!dir) return t.skip('no HOLDFAST_TEST_RGW_DIR (scripts/test.sh sets it)');
    const bucket = uniqueBucket('fault');
    const repo = new CliRepo(`s3:${endpoint}/${bucket}`);
    await repo.ok(['init', '--pack-size', '4MiB'], { env });
    const src = join(tmp, 'src');
    // Slow uploads (3 MiB/s for 12 MB), so the kill lands in the middle.
    const backup = repo.run(['--limit-upload', '3072', 'backup', '--json', src], { env });
    const watcher = testS3Store(server, bucket);
    await firstPack(watcher);
    await watcher.close();
    await killGateway('SIGKILL');
    await delay(1500);
    await startGateway();
    const first = await backup;
    if (first.code !== 0) {
      assert.equal(first.code, 20, first.stderr);
      assert.match(first.stderr, /failed after \d+ attempts/);
    }
    await repo.ok(['check', '--read-data'], { env });
    const second = parseSummary((await repo.ok(['backup', '--json', src], { env })).stdout);
    assert.ok(second.data_added < 12_000_000, `added ${second.data_added} bytes again`);
    await repo.ok(['check'], { env });
    t.diagnostic(`first backup exit ${first.code}; the second added ${second.data_added} bytes`);
  });

  void it('stays down: exit 20 naming the storage, no snapshot; once back, nothing is blocked and the packs are reused', async (t) => {
    if (!dir) return t.skip('no HOLDFAST_TEST_RGW_DIR (scripts/test.sh sets it)');
    const bucket = uniqueBucket('outage');
    const repo = new CliRepo(`s3:${endpoint}/${bucket}`);
    await repo.ok(['init', '--pack-size', '4MiB'], { env });
    const src = join(tmp, 'src');
    const watcher = testS3Store(server, bucket);
    try {
      // The real binary, because its lock is left behind when storage is gone, and only a process
      // that has ended makes that lock stale. Two retries give up within about a second of the
      // kill rather than the default's ~20 s; slow uploads (3 MiB/s for 12 MB) let the kill land
      // in the middle.
      const argv = ['--storage-retries', '2', '--limit-upload', '3072', 'backup', src];
      const backup = waitForExit(spawnBinary(argv, { env: repo.env(env) }));
      await firstPack(watcher);
      await killGateway('SIGKILL');
      const first = await backup;
      assert.equal(first.code, 20, first.stderr);
      // While retrying: a warning per retry, with the attempt and the delay.
      assert.match(
        first.stderr,
        /^warning: could not write pack [0-9a-f]{64} at .+ \(attempt 1 of 3; retrying in \d+ ms\)$/m,
      );
      // In the end: which storage, which request, how often, and what to do.
      const storage = escapeRegExp(`s3:${endpoint}/${bucket}`);
      assert.match(
        first.stderr,
        new RegExp(
          `^error: storage ${storage} is unavailable: .+ failed after 3 attempts: .+$`,
          'm',
        ),
      );
      assert.match(first.stderr, /^hint: .+; its shared lock could not be removed: .+unlock/m);

      await startGateway();
      assert.deepEqual(await names(watcher, 'snapshot'), [], 'no snapshot may appear');
      assert.equal((await names(watcher, 'lock')).length, 1, 'the failed backup left its lock');
      assert.ok((await names(watcher, 'pack')).length > 0, 'packs were uploaded before the kill');
      // The lock of an ended process blocks neither shared (check, backup) nor exclusive
      // (repair) commands.
      await repo.ok(['check', '--read-data'], { env });
      // Packs uploaded after the last index are in no index (repository-format.md §13.3); the
      // next backup on this machine indexes them from its pack journal (§2.5).
      const second = parseSummary((await repo.ok(['backup', '--json', src], { env })).stdout);
      assert.ok(
        second.data_added < 12_000_000,
        `added ${second.data_added} bytes again; the failed backup printed:\n${first.stderr}`,
      );
      await repo.ok(['repair', 'index'], { env });
      assert.match((await repo.ok(['unlock'], { env })).stdout, /^removed 1 locks$/m);
      assert.deepEqual(await names(watcher, 'lock'), []);
      await repo.ok(['check', '--read-data'], { env });
      t.diagnostic(`the second backup added ${second.data_added} bytes`);
    } finally {
      await watcher.close();
    }
  });
});
