import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CACHEDIR_TAG_SIGNATURE, isCacheDir } from './is-cache-dir.js';
import { mknod } from './native.js';

const TAG = `${CACHEDIR_TAG_SIGNATURE}\n# This file is a cache directory tag.\n`;

void describe('isCacheDir', () => {
  let root = '';
  const dir = async (name: string, tag?: string): Promise<Buffer> => {
    const path = join(root, name);
    await mkdir(path);
    if (tag !== undefined) await writeFile(join(path, 'CACHEDIR.TAG'), tag);
    return Buffer.from(path);
  };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-cachedir-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('recognises a tag that starts with the signature', async () => {
    assert.equal(await isCacheDir(await dir('tagged', TAG)), true);
    assert.equal(await isCacheDir(await dir('exact', CACHEDIR_TAG_SIGNATURE)), true);
  });

  void it('ignores missing, short, wrong and non-file tags', async () => {
    assert.equal(await isCacheDir(await dir('untagged')), false);
    assert.equal(await isCacheDir(await dir('short', CACHEDIR_TAG_SIGNATURE.slice(0, 20))), false);
    assert.equal(await isCacheDir(await dir('wrong', TAG.replace('8a47', '8a48'))), false);
    const tagDir = await dir('tag-is-dir');
    await mkdir(join(tagDir.toString(), 'CACHEDIR.TAG'));
    assert.equal(await isCacheDir(tagDir), false);
    assert.equal(await isCacheDir(Buffer.from(join(root, 'no-such-dir'))), false);
  });

  void it('does not block on a fifo named CACHEDIR.TAG', async () => {
    const fifoDir = await dir('fifo');
    mknod(Buffer.from(join(fifoDir.toString(), 'CACHEDIR.TAG')), constants.S_IFIFO | 0o644, 0, 0);
    assert.equal(await isCacheDir(fifoDir), false);
  });

  void it('follows a symlinked tag, as restic does', async () => {
    await writeFile(join(root, 'real-tag'), TAG);
    const linked = await dir('linked');
    await symlink(join(root, 'real-tag'), join(linked.toString(), 'CACHEDIR.TAG'));
    assert.equal(await isCacheDir(linked), true);
  });

  void it('rejects when the tag cannot be read', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root reads any file');
    const locked = await dir('locked', TAG);
    await chmod(join(locked.toString(), 'CACHEDIR.TAG'), 0);
    await assert.rejects(isCacheDir(locked), { code: 'EACCES' });
  });
});
