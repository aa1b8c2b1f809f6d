/**
 * End to end: the failures a user meets first — wrong password, no repository, a mistyped flag,
 * init over an existing repository — give the documented exit code and one clear message.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult, runCli, type CliResult } from '../../testing/cli-harness.js';
import { fileDigests } from '../../testing/repo-files.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

/** The stderr lines that report an error (not hints or progress). */
function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('error'));
}

void describe('CLI errors and exit codes', () => {
  let tmp: string;
  let repo: CliRepo;
  let src: string;
  before(async () => {
    tmp = await makeTempDir('errors');
    repo = new CliRepo(join(tmp, 'repo'), 'the right password');
    await repo.init();
    src = join(tmp, 'src');
    await mkdir(src);
    await writeFile(join(src, 'file'), 'content\n');
    await repo.backup([src]);
  });
  after(() => removeTempDir(tmp));

  void it('wrong password: exit 12 with one clear line, no secret echoed', async () => {
    for (const argv of [['snapshots'], ['backup', src], ['restore', 'latest', '-t', tmp]]) {
      const r = await repo.run(argv, { env: { HOLDFAST_PASSWORD: 'a wrong password' } });
      assert.equal(r.code, 12, describeResult(argv, r));
      const lines = errorLines(r);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /password/i);
      assert.doesNotMatch(r.stderr + r.stdout, /a wrong password|the right password/);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
    // Through a password file too, and the snapshot count is unchanged afterwards.
    const pwFile = join(tmp, 'wrong-pw');
    await writeFile(pwFile, 'still wrong\n');
    const r = await repo.run(['snapshots'], {
      env: { HOLDFAST_PASSWORD: undefined, HOLDFAST_PASSWORD_FILE: pwFile },
    });
    assert.equal(r.code, 12, r.stderr);
    assert.equal((await repo.snapshots()).length, 1);
  });

  void it('no repository: exit 10 naming the location', async () => {
    const missing = join(tmp, 'no-such-repo');
    for (const r of [
      await runCli(['snapshots'], {
        env: { HOLDFAST_REPOSITORY: missing, HOLDFAST_PASSWORD: 'x' },
      }),
      await runCli(['-r', missing, 'backup', src], { env: { HOLDFAST_PASSWORD: 'x' } }),
    ]) {
      assert.equal(r.code, 10, r.stderr);
      assert.equal(errorLines(r).length, 1, r.stderr);
      assert.ok(r.stderr.includes(missing), r.stderr);
    }
    // An empty directory is not a repository either.
    const empty = join(tmp, 'empty-dir');
    await mkdir(empty);
    const r = await runCli(['-r', empty, 'snapshots'], { env: { HOLDFAST_PASSWORD: 'x' } });
    assert.equal(r.code, 10, r.stderr);
  });

  void it('usage errors: exit 2', async () => {
    for (const argv of [
      ['snapshots', '--no-such-flag'],
      ['backup', '--bogus', src],
      ['no-such-command'],
      ['restore'], // missing snapshot argument
      ['backup'], // nothing to back up
      ['check', '--read-data-subset', 'lots'],
    ]) {
      const r = await repo.run(argv);
      assert.equal(r.code, 2, describeResult(argv, r));
      assert.ok(r.stderr.length > 0, 'says why');
    }
    const noPassword = await repo.run(['snapshots'], { env: { HOLDFAST_PASSWORD: undefined } });
    assert.equal(noPassword.code, 2, noPassword.stderr);
  });

  void it('init over an existing repository refuses and changes nothing', async () => {
    const before = await fileDigests(repo.path);
    for (const password of ['the right password', 'another password']) {
      const r = await runCli(['init'], {
        env: { HOLDFAST_REPOSITORY: repo.path, HOLDFAST_PASSWORD: password },
      });
      assert.notEqual(r.code, 0, describeResult(['init'], r));
      assert.equal(errorLines(r).length, 1, r.stderr);
    }
    assert.deepEqual(await fileDigests(repo.path), before);
    assert.equal((await repo.snapshots()).length, 1, 'still opens with its password');
  });

  void it('--version and --help exit 0', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const help = await runCli(['backup', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--exclude-caches/);
  });
});
