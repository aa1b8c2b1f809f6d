/**
 * End to end: the S3 gateway dies in the middle of a backup (SIGKILL) and comes back. The backup
 * either finishes through retries or fails with exit 20 and a clear message; either way `check`
 * passes and the next backup succeeds, adding less than everything (what was uploaded is reused).
 * Uses the spare gateway of scripts/ceph-rgw-up.sh, so other S3 tests keep theirs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { CliRepo, parseSummary } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { describeWithS3, s3Env, testS3Store, uniqueBucket } from '../../testing/s3-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

const execFileP = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
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
    for (let i = 0; i < 200; i++) {
      const packs = watcher.list('pack')[Symbol.asyncIterator]();
      if (!(await packs.next()).done) break;
      await delay(50);
    }
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
});
