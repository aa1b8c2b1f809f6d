/**
 * End to end against a real S3 service (Ceph RGW, started by scripts/test.sh): init, backup,
 * restore and check --read-data through `-r s3:http://HOST:PORT/BUCKET/PREFIX`; the restore
 * equals the source for rsync; a second backup adds nothing; rate limits and --connections work.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { CliRepo } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { describeWithS3, s3Env, s3Location, uniqueBucket } from '../../testing/s3-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

describeWithS3('S3 repository end to end', (server) => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  const env = s3Env(server);

  before(async () => {
    tmp = await makeTempDir('s3-e2e');
    src = join(tmp, 'src');
    await mkdir(join(src, 'docs/empty'), { recursive: true });
    await writeFile(join(src, 'docs/a.txt'), 'alpha\n');
    await writeFile(join(src, 'big.bin'), seededBytes(2_500_000, 'big'));
    for (let i = 0; i < 20; i++)
      await writeFile(join(src, `docs/f${i}`), seededBytes(3000 + i, `f${i}`));
    await symlink('docs/a.txt', join(src, 'link'));
    repo = new CliRepo(s3Location(server, uniqueBucket('e2e'), 'repo/one'));
  });
  after(() => removeTempDir(tmp));

  void it('init, backup, restore, check --read-data, and a second backup adds nothing', async () => {
    const init = await repo.ok(['init', '--pack-size', '4MiB'], { env });
    assert.match(init.stdout, /created holdfast repository .* at s3:http/);
    const first = await repo.backup([src], { env });
    assert.ok(first.data_added >= 2_500_000);
    const target = join(tmp, 'restore');
    await repo.ok(['restore', 'latest', '--target', target], { env });
    assert.equal(await rsyncDifferences(src, join(target, src)), '');
    await repo.ok(['check', '--read-data'], { env });
    const second = await repo.backup([src, '--force'], { env });
    assert.equal(second.data_added, 0);
    assert.equal((await repo.snapshots()).length, 2);
  });

  void it('honours --connections and --limit-download', async () => {
    const started = Date.now();
    const target = join(tmp, 'restore-limited');
    await repo.ok(
      ['--connections', '2', '--limit-download', '4096', 'restore', 'latest', '--target', target],
      { env },
    );
    // 2.5 MB at 4 MiB/s with one second of burst: well under a second is impossible.
    assert.ok(Date.now() - started > 300, 'the download limit slowed the restore');
    assert.equal(await rsyncDifferences(src, join(target, src)), '');
  });

  void it('reports a missing repository and bad credentials clearly', async () => {
    const missing = new CliRepo(s3Location(server, uniqueBucket('none')));
    const r = await missing.run(['snapshots'], { env });
    assert.equal(r.code, 10, r.stderr);
    const denied = await repo.run(['snapshots'], {
      env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
    });
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /SignatureDoesNotMatch|AccessDenied|403/);
    assert.doesNotMatch(denied.stderr, /not-the-secret/);
  });
});
