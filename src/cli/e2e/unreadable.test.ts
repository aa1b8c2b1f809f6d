/**
 * End to end with the real binary as an unprivileged user: files the backup cannot read are
 * named in a warning, the snapshot is still written but marked partial, and the exit code is 3.
 * Root reads everything, so the binary runs as `nobody` (via runuser) over a source and a
 * repository that nobody owns.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { binaryUsableBy, runBinary, type BinaryOptions } from '../../testing/binary.js';
import type { SnapshotJson } from '../../testing/cli-harness.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

const USER = 'nobody';

const execFileP = promisify(execFile);

/** uid and gid of a user, from `id`. */
async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execFileP('id', ['-u', user])).stdout.trim());
  const gid = Number((await execFileP('id', ['-g', user])).stdout.trim());
  return { uid, gid };
}

void describe('unreadable source files', () => {
  let tmp: string;
  let src: string;
  let options: BinaryOptions;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root, to become another user');
    tmp = await makeTempDir('unreadable');
    await chmod(tmp, 0o755); // mkdtemp makes it 0700: the user must get in
    const work = join(tmp, 'work');
    src = join(work, 'src');
    await mkdir(join(src, 'locked-dir'), { recursive: true });
    await writeFile(join(src, 'readable.txt'), 'readable\n');
    await writeFile(join(src, 'unreadable.txt'), 'not for nobody\n');
    await writeFile(join(src, 'locked-dir', 'inside.txt'), 'behind a closed door\n');
    const { uid, gid } = await idsOf(USER);
    for (const p of [work, src, join(src, 'readable.txt'), join(src, 'unreadable.txt')]) {
      await chown(p, uid, gid);
    }
    await chown(join(src, 'locked-dir'), uid, gid);
    await chmod(join(src, 'unreadable.txt'), 0o000);
    await chmod(join(src, 'locked-dir'), 0o000);
    options = {
      user: USER,
      binary: await binaryUsableBy(USER, tmp),
      env: {
        HOLDFAST_REPOSITORY: join(work, 'repo'),
        HOLDFAST_PASSWORD: 'pw of nobody',
        HOLDFAST_CACHE_DIR: join(work, 'cache'),
      },
      cwd: work,
    };
    const init = await runBinary(['init'], options);
    assert.equal(init.code, 0, init.stderr);
  });
  after(() => removeTempDir(tmp));

  void it('warns naming each unreadable item, writes a partial snapshot, exits 3', async () => {
    const backup = await runBinary(['backup', src], options);
    assert.equal(backup.code, 3, `${backup.stdout}\n${backup.stderr}`);
    const errors = backup.stderr.split('\n').filter((l) => /denied|cannot|EACCES/i.test(l));
    assert.ok(
      errors.some((l) => l.includes(join(src, 'unreadable.txt'))),
      `names the file:\n${backup.stderr}`,
    );
    assert.ok(
      errors.some((l) => l.includes(join(src, 'locked-dir'))),
      `names the directory:\n${backup.stderr}`,
    );
    assert.ok(!backup.stderr.includes(join(src, 'readable.txt')), 'readable.txt is fine');

    const listed = await runBinary(['snapshots', '--json'], options);
    assert.equal(listed.code, 0, listed.stderr);
    const [snapshot] = JSON.parse(listed.stdout) as SnapshotJson[];
    assert.equal(snapshot?.partial, true, listed.stdout);
    const text = await runBinary(['snapshots'], options);
    assert.match(text.stdout, /partial/);

    // What could be read is in the snapshot; the unreadable file is not.
    const ls = await runBinary(['ls', 'latest'], options);
    assert.ok(ls.stdout.split('\n').includes(join(src, 'readable.txt')), ls.stdout);
    assert.ok(!ls.stdout.includes('unreadable.txt'), ls.stdout);
    const dump = await runBinary(['dump', 'latest', join(src, 'readable.txt')], options);
    assert.equal(dump.stdout, 'readable\n');
    const check = await runBinary(['check', '--read-data'], options);
    assert.equal(check.code, 0, check.stderr);

    // The next backup, with the first one's walk cache, tries the unreadable items again: a
    // directory that left something out is never taken over from the cache.
    const again = await runBinary(['backup', src], options);
    assert.equal(again.code, 3, `${again.stdout}\n${again.stderr}`);
    assert.ok(again.stderr.includes(join(src, 'unreadable.txt')), again.stderr);
    assert.ok(again.stderr.includes(join(src, 'locked-dir')), again.stderr);
    assert.doesNotMatch(again.stderr, /walk cache/);
  });
});
