/**
 * Smoke test of the real binary, dist/bin/holdfast.js, as a user's shell runs it: version, help,
 * init, backup, snapshots, restore, and exit codes as the parent process sees them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BINARY, runBinary, spawnBinary, waitForExit } from '../../testing/binary.js';
import { cleanEnv } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

void describe('the holdfast binary', () => {
  let tmp: string;
  let env: Record<string, string>;
  before(async () => {
    tmp = await makeTempDir('smoke');
    const pwFile = join(tmp, 'password');
    await writeFile(pwFile, 'smoke test password\n');
    env = { HOLDFAST_REPOSITORY: join(tmp, 'repo'), HOLDFAST_PASSWORD_FILE: pwFile };
  });
  after(() => removeTempDir(tmp));

  void it('--version prints the package version, --help the commands', async () => {
    const pkg = JSON.parse(
      await readFile(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const version = await runBinary(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);
    const help = await runBinary(['--help']);
    assert.equal(help.code, 0);
    for (const cmd of ['init', 'backup', 'restore', 'check', 'snapshots']) {
      assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
    }
  });

  void it('init, backup, snapshots, check, restore', async () => {
    const src = join(tmp, 'src');
    await mkdir(join(src, 'dir'), { recursive: true });
    await writeFile(join(src, 'hello.txt'), 'hello from the binary\n');
    await writeFile(join(src, 'dir', 'data.bin'), seededBytes(1_500_000, 'smoke'));

    const init = await runBinary(['init'], { env });
    assert.equal(init.code, 0, init.stderr);
    const backup = await runBinary(['backup', src], { env });
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /snapshot [0-9a-f]{8} saved/);
    const list = await runBinary(['snapshots'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /1 snapshots?/);
    const check = await runBinary(['check', '--read-data'], { env });
    assert.equal(check.code, 0, check.stderr);
    const target = join(tmp, 'target');
    const restore = await runBinary(['restore', 'latest', '--target', target], { env });
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(await rsyncDifferences(src, join(target, src)), '');
    const stdin = await runBinary(['backup', '--stdin', '--stdin-filename', 'piped'], {
      env,
      stdin: 'through a real pipe\n',
    });
    assert.equal(stdin.code, 0, stdin.stderr);
    const dump = await runBinary(['dump', 'latest', '/piped'], { env });
    assert.equal(dump.stdout, 'through a real pipe\n');
  });

  /**
   * Runs the binary as a program, with `extraEnv`, and reads node's command line and environment
   * while it waits on its standard input.
   */
  async function runAsProgram(
    extraEnv: Record<string, string>,
  ): Promise<{ argv: string[]; environ: string[] }> {
    // What a shell does with `holdfast` on the PATH (npm link, npm install -g): exec the file.
    // The other tests run `node BINARY`, which skips the first line.
    const child = spawn(BINARY, ['backup', '--stdin', '--stdin-filename', 'held-open'], {
      env: { ...cleanEnv(), ...env, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = waitForExit(child);
    // /usr/bin/env execs node in place: the same pid, then node's command line.
    let argv: string[] = [];
    let environ: string[] = [];
    for (let i = 0; i < 200 && !argv.some((a) => a.endsWith('holdfast.js')); i++) {
      await sleep(25);
      argv = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      environ = (await readFile(`/proc/${child.pid}/environ`, 'utf8').catch(() => '')).split('\0');
    }
    child.stdin?.end('read while the process was looked at\n');
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
    return { argv, environ };
  }

  void it('run as a program, its first line gives node and malloc their memory settings', async () => {
    const { argv, environ } = await runAsProgram({});
    assert.ok(argv.includes('--max-semi-space-size=2'), `node ran as: ${argv.join(' ')}`);
    // glibc parses the variable in place, so /proc shows it up to the first separator: ours.
    assert.ok(environ.includes('GLIBC_TUNABLES=glibc.malloc.arena_max=2'), environ.join(' '));
    // With a user's own tunables ours still come first; theirs follow and, applied later, win.
    const own = await runAsProgram({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' });
    assert.ok(own.environ.includes('GLIBC_TUNABLES=glibc.malloc.arena_max=2'));
  });

  void it('exit codes reach the shell', async () => {
    const wrong = await runBinary(['snapshots'], {
      env: { HOLDFAST_REPOSITORY: join(tmp, 'repo'), HOLDFAST_PASSWORD: 'wrong' },
    });
    assert.equal(wrong.code, 12, wrong.stderr);
    const missing = await runBinary(['snapshots'], {
      env: { HOLDFAST_REPOSITORY: join(tmp, 'nothing-here'), HOLDFAST_PASSWORD: 'x' },
    });
    assert.equal(missing.code, 10, missing.stderr);
    const usage = await runBinary(['backup', '--no-such-flag'], { env });
    assert.equal(usage.code, 2, usage.stderr);
  });

  void it('a reader that goes away (| head, | true) ends the output quietly', async () => {
    const src = join(tmp, 'src');
    const listed = JSON.parse((await runBinary(['snapshots', '--json'], { env })).stdout) as Array<{
      id: string;
      paths: string[];
    }>;
    const files = listed.find((s) => s.paths.includes(src));
    assert.ok(files, 'the file snapshot of the previous test');
    for (const argv of [
      ['ls', '--json', files.id],
      ['snapshots'],
      ['dump', files.id, join(src, 'dir', 'data.bin')],
    ]) {
      const child = spawnBinary(argv, { env });
      child.stdin?.end();
      // The read end is closed before the binary writes: every write meets EPIPE.
      child.stdout?.destroy();
      const result = await waitForExit(child);
      assert.ok(result.code === 0 || result.code === 141, `exit ${result.code}: ${result.stderr}`);
      assert.doesNotMatch(
        result.stderr,
        /Unhandled|EPIPE|\n\s+at /,
        `${argv.join(' ')}:\n${result.stderr}`,
      );
    }
  });
});
