/**
 * Permanent filesystem errors, provoked for real: ENOSPC and EROFS on a tiny tmpfs (needs root
 * with CAP_SYS_ADMIN to mount), EACCES as an unprivileged user (a child process dropped to
 * `nobody` when running as root, since root ignores permission bits). Tests that cannot set up
 * their condition honestly are skipped with the reason, never faked.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MiB } from '../../core/index.js';
import { rejectsWithCode, testObject } from '../testing/conformance.js';
import { LocalStore } from './local-store.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs of `size` at a new directory, or returns why it cannot. */
function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${String(err).split('\n')[0]})`;
  }
}

void describe('LocalStore permanent errors', () => {
  let dir: string;
  const mounts: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-errors-'));
  });
  after(async () => {
    for (const m of mounts) execFileSync('umount', [m]);
    await rm(dir, { recursive: true, force: true });
  });

  const onTmpfs = async (name: string, size: string) => {
    const mountpoint = join(dir, name);
    await mkdir(mountpoint);
    const why = mountTmpfs(mountpoint, size);
    if (why === undefined) mounts.push(mountpoint);
    return { why, store: new LocalStore(join(mountpoint, 'repo')) };
  };

  void it('maps ENOSPC to STORAGE_FAILED and leaves no object or tmp file', async (t) => {
    const { why, store } = await onTmpfs('full', '1m');
    if (why) return t.skip(why);
    await store.create();
    const big = testObject(1, 2 * MiB);
    const err = await rejectsWithCode(store.put('pack', big.name, big.data), 'STORAGE_FAILED');
    assert.match(err.message, /ENOSPC/);
    assert.match(err.message, new RegExp(`${store.root}/tmp/`));
    assert.match((err as { hint?: string }).hint ?? '', /free space/);
    assert.equal(await store.stat('pack', big.name), undefined);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
    const small = testObject(2, 1000);
    await store.put('pack', small.name, small.data);
  });

  void it('maps EROFS to STORAGE_FAILED; reads keep working', async (t) => {
    const { why, store } = await onTmpfs('readonly', '4m');
    if (why) return t.skip(why);
    await store.create();
    const obj = testObject(3);
    await store.put('snapshot', obj.name, obj.data);
    execFileSync('mount', ['-o', 'remount,ro', join(dir, 'readonly')]);
    const other = testObject(4);
    const err = await rejectsWithCode(
      store.put('snapshot', other.name, other.data),
      'STORAGE_FAILED',
    );
    assert.match(err.message, /EROFS/);
    await rejectsWithCode(store.delete('snapshot', obj.name), 'STORAGE_FAILED');
    assert.ok((await store.get('snapshot', obj.name)).equals(obj.data));
  });

  void it('maps EACCES to STORAGE_FAILED with a permissions hint', async () => {
    const store = new LocalStore(join(dir, 'private'));
    await store.create();
    const obj = testObject(5);
    if (!isRoot) {
      await chmod(join(store.root, 'tmp'), 0o500);
      const err = await rejectsWithCode(store.put('pack', obj.name, obj.data), 'STORAGE_FAILED');
      assert.match(err.message, /EACCES/);
      return;
    }
    // Root bypasses mode bits, so the attempt runs in a child process as nobody.
    const module = new URL('./local-store.js', import.meta.url).href;
    const script = `
      const { LocalStore } = await import(${JSON.stringify(module)});
      const store = new LocalStore(${JSON.stringify(store.root)});
      try { await store.put('pack', ${JSON.stringify(obj.name)}, Buffer.from('x')); console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      cwd: '/',
    });
    const result = JSON.parse(stdout) as { code?: string; message?: string; hint?: string };
    assert.equal(result.code, 'STORAGE_FAILED');
    assert.match(result.message ?? '', /EACCES/);
    assert.match(result.hint ?? '', /permission|may read and write/);
  });
});
