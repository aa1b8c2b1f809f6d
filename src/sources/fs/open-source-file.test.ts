import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSourceFile } from './open-source-file.js';

void describe('openSourceFile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-open-source-'));
    await writeFile(join(dir, 'file'), 'content');
    await symlink(join(dir, 'file'), join(dir, 'link'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('opens a regular file for reading', async () => {
    const handle = await openSourceFile(Buffer.from(join(dir, 'file')));
    assert.equal((await handle.readFile()).toString(), 'content');
    await handle.close();
  });

  void it('refuses a symbolic link put where the walk saw a file (ELOOP)', async () => {
    const link = Buffer.from(join(dir, 'link'));
    await assert.rejects(openSourceFile(link), { code: 'ELOOP' });
  });
});
