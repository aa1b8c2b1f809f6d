/**
 * End to end: repositories on a holdfast repository server. The whole cycle through `rest:`
 * (init, backup, check --read-data, restore, forget --prune), and the real binary serving over
 * HTTP and HTTPS (with --cacert), stopped by SIGTERM with exit 0.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { BINARY, spawnBinary, waitForExit, type BinaryResult } from '../../testing/binary.js';
import { cleanEnv, CliRepo } from '../../testing/cli-harness.js';
import { namesMadeIn } from '../../testing/names-made.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import { startRestServer, type RestServerFixture } from '../../testing/rest-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

const execFileP = promisify(execFile);

/** Starts `holdfast server repo ARGS` and resolves with its URL once it listens. */
async function serveBinary(
  args: string[],
): Promise<{ child: ChildProcess; url: string; exit: Promise<BinaryResult> }> {
  const child = spawnBinary(['server', 'repo', '--listen', '127.0.0.1:0', ...args]);
  const exit = waitForExit(child);
  let seen = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      seen += b.toString();
      const m = / at (https?:\/\/\S+)/.exec(seen);
      if (m) resolve(m[1]!);
    });
    void exit.then((r) => reject(new Error(`server exited early: ${r.stderr}`)));
  });
  return { child, url, exit };
}

void describe('repository server', () => {
  let tmp: string;
  let data: string;
  let server: RestServerFixture;
  before(async () => {
    tmp = await makeTempDir('rest');
    server = await startRestServer();
    data = join(tmp, 'data');
    await mkdir(join(data, 'dir'), { recursive: true });
    await writeSeededFile(join(data, 'large.bin'), 5 * 1024 * 1024 + 3, 'rest-large');
    for (let i = 0; i < 20; i++)
      await writeFile(join(data, 'dir', `small-${i}`), seededBytes(100 * i + 1, `rest-${i}`));
  });
  after(async () => {
    await server.stop();
    await removeTempDir(tmp);
  });

  void it('backs up, checks, restores and prunes through rest:', async () => {
    const repo = new CliRepo(server.location('cycle'));
    await repo.init();
    await repo.backup([data]);
    await writeFile(join(data, 'dir', 'small-3'), 'changed\n');
    await repo.backup([data]);
    await repo.ok(['check', '--read-data']);
    const target = join(tmp, 'restore-cycle');
    await repo.ok(['restore', 'latest', '--target', target, '--verify']);
    assert.equal(await rsyncDifferences(data, join(target, data)), '');
    await repo.ok(['forget', '--keep-last', '1', '--prune']);
    assert.equal((await repo.snapshots()).length, 1);
    await repo.ok(['check', '--read-data']);
    // The password is never shown, whatever the command prints.
    const r = await repo.run(['snapshots', '--verbose']);
    assert.doesNotMatch(r.stdout + r.stderr, /client-password/);
  });

  void it('restores packs taken whole through a spool in TMPDIR, removed at the end', async () => {
    const repo = new CliRepo(server.location('spool'));
    await repo.init();
    await repo.backup([data]);
    const spoolParent = join(tmp, 'spool-parent');
    await mkdir(spoolParent);
    // The spool lives for the restore only: seen being made, gone afterwards.
    const target = join(tmp, 'restore-spool');
    const made = await namesMadeIn(spoolParent, () =>
      repo.ok(['restore', 'latest', '--target', target], { env: { TMPDIR: spoolParent } }),
    );
    assert.equal(await rsyncDifferences(data, join(target, data)), '');
    assert.ok(
      made.some((name) => name.startsWith(`holdfast-spool-`)),
      `a spool was made in TMPDIR (saw ${JSON.stringify(made)})`,
    );
    assert.deepEqual(await readdir(spoolParent), [], 'and removed');
  });

  void it('backs up through a spool in TMPDIR, uploading packs from there, removed at the end', async () => {
    const repo = new CliRepo(server.location('spooled-backup'));
    await repo.init();
    const spoolParent = join(tmp, 'spool-backup');
    await mkdir(spoolParent);
    const made = await namesMadeIn(spoolParent, () =>
      repo.ok(['backup', data], { env: { TMPDIR: spoolParent } }),
    );
    assert.ok(
      made.some((name) => name.startsWith(`holdfast-spool-`)),
      `a spool was made in TMPDIR (saw ${JSON.stringify(made)})`,
    );
    assert.deepEqual(await readdir(spoolParent), [], 'and removed');
    await repo.ok(['check', '--read-data']);
    const target = join(tmp, 'restore-spooled-backup');
    await repo.ok(['restore', 'latest', '--target', target]);
    assert.equal(await rsyncDifferences(data, join(target, data)), '');
  });

  void it('restores everything when the spool cannot be written, with one warning', async () => {
    // Files under 1 MiB each, 6 MiB in all: one pack, which the restore takes whole.
    const small = join(tmp, 'under-1m');
    await mkdir(small);
    for (let i = 0; i < 12; i++)
      await writeSeededFile(join(small, `f${i}`), 512 * 1024 + i, `efbig-${i}`);
    const repo = new CliRepo(server.location('efbig'));
    await repo.init();
    await repo.backup([small]);
    const spoolParent = join(tmp, 'spool-efbig');
    await mkdir(spoolParent);
    const target = join(tmp, 'restore-efbig');
    // Writes past 1 MiB fail with EFBIG (node ignores SIGXFSZ): the spooled pack's, not those of
    // the files restored.
    const child = spawn(
      'bash',
      [
        '-c',
        'ulimit -f 1024; exec "$@"',
        'bash',
        process.execPath,
        BINARY,
        'restore',
        'latest',
      ].concat(['--target', target]),
      {
        env: { ...cleanEnv(), ...repo.env({ TMPDIR: spoolParent }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const r = await waitForExit(child);
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.match(/cannot write packs to [^\n]*/g) ?? [];
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0], /holdfast-spool-.*keeping them in memory instead/);
    assert.equal(await rsyncDifferences(small, join(target, small)), '');
    assert.deepEqual(await readdir(spoolParent), [], 'the spool is removed all the same');
  });

  void it('reports a wrong server password as exit 1 with a hint, not a retry storm', async () => {
    const wrong = new CliRepo(server.location('cycle').replace('client-password', 'nope'));
    const r = await wrong.run(['snapshots']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /did not accept the credentials/);
    assert.doesNotMatch(r.stderr, /nope/);
  });

  void it('the binary serves HTTP and stops on SIGTERM with exit 0', async () => {
    const root = join(tmp, 'served-http');
    const { child, url, exit } = await serveBinary(['--path', root, '--user', 'alice:secret one']);
    const repo = new CliRepo(`rest:${url.replace('://', '://alice:secret%20one@')}host-a/`);
    await repo.init();
    await repo.backup([join(data, 'dir')]);
    const target = join(tmp, 'restore-http');
    await repo.ok(['restore', 'latest', '--target', target]);
    assert.equal(await rsyncDifferences(join(data, 'dir'), join(target, data, 'dir')), '');
    child.kill('SIGTERM');
    const result = await exit;
    assert.equal(result.code, 0, result.stderr);
    // The repository is plain files under --path/PREFIX.
    await readFile(join(root, 'host-a', 'config'));
  });

  void it('the binary serves HTTPS; clients trust it with --cacert', async () => {
    const cert = join(tmp, 'cert.pem');
    const key = join(tmp, 'key.pem');
    await execFileP('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const htpasswd = join(tmp, 'htpasswd');
    await writeFile(join(tmp, 'bobpw'), 'bob password\n');
    const added = await waitForExit(
      spawnBinary([
        'server',
        'add-user',
        'bob',
        '--htpasswd',
        htpasswd,
        '--new-password-file',
        join(tmp, 'bobpw'),
      ]),
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(await readFile(htpasswd, 'utf8'), /^bob:\$scrypt\$ln=15,r=8,p=1\$/);
    const { child, url, exit } = await serveBinary([
      '--path',
      join(tmp, 'served-https'),
      '--htpasswd',
      htpasswd,
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--append-only',
    ]);
    assert.match(url, /^https:/);
    const repo = new CliRepo(`rest:${url}`);
    const env = { HOLDFAST_REST_USERNAME: 'bob', HOLDFAST_REST_PASSWORD: 'bob password' };
    const untrusted = await repo.run(['init'], { env });
    assert.equal(untrusted.code, 1, untrusted.stderr);
    assert.match(untrusted.stderr, /--cacert/);
    await repo.ok(['--cacert', cert, 'init'], { env });
    await repo.ok(['--cacert', cert, 'backup', join(data, 'dir')], { env });
    await repo.ok(['--cacert', cert, 'check', '--read-data'], { env });
    child.kill('SIGTERM');
    assert.equal((await exit).code, 0);
  });
});
