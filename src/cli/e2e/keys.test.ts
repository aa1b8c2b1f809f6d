/**
 * End to end: the keys (passwords) of a repository. Every key opens the same data; `key passwd`
 * retires the old password; the key in use cannot be removed; a removed key stops working.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

interface KeyJson {
  readonly id: string;
  readonly current: boolean;
}

void describe('key list, add, passwd, remove', () => {
  let tmp: string;
  let repo: CliRepo;
  let src: string;
  const passwordFile = async (name: string, password: string): Promise<string> => {
    const file = join(tmp, name);
    await writeFile(file, `${password}\n`);
    return file;
  };
  const as = (password: string): CliRepo => new CliRepo(repo.path, password);
  const keys = async (r: CliRepo): Promise<KeyJson[]> =>
    JSON.parse((await r.ok(['key', 'list', '--json'])).stdout) as KeyJson[];

  before(async () => {
    tmp = await makeTempDir('keys');
    src = join(tmp, 'src');
    await mkdir(src);
    await writeFile(join(src, 'file'), 'data\n');
    repo = new CliRepo(join(tmp, 'repo'), 'first password');
    await repo.init();
    await repo.backup([src]);
  });
  after(() => removeTempDir(tmp));

  void it('key add: a second password opens the same repository', async () => {
    const added = await repo.ok([
      'key',
      'add',
      '--new-password-file',
      await passwordFile('pw2', 'second password'),
    ]);
    assert.doesNotMatch(added.stdout + added.stderr, /second password/);
    const list = await keys(repo);
    assert.equal(list.length, 2);
    assert.equal(list.filter((k) => k.current).length, 1);
    const viaSecond = await as('second password').snapshots();
    assert.deepEqual(viaSecond, await repo.snapshots());
    const text = (await repo.ok(['key', 'list'])).stdout;
    for (const k of list) assert.ok(text.includes(k.id.slice(0, 8)), text);
  });

  void it('key passwd: the new password works, the old one stops working', async () => {
    const second = as('second password');
    await second.ok(['key', 'passwd', '--new-password-file', await passwordFile('pw3', 'third')]);
    const old = await second.run(['snapshots']);
    assert.equal(old.code, 12, describeResult(['snapshots'], old));
    assert.equal((await as('third').snapshots()).length, 1);
    assert.equal((await repo.snapshots()).length, 1, 'the other key is untouched');
    assert.equal((await keys(repo)).length, 2);
  });

  void it('key remove: refuses the key in use, removes another', async () => {
    const third = as('third');
    const list = await keys(third);
    const current = list.find((k) => k.current);
    const other = list.find((k) => !k.current);
    assert.ok(current && other);
    const refused = await third.run(['key', 'remove', current.id]);
    assert.notEqual(refused.code, 0, 'removing the key in use is refused');
    assert.match(refused.stderr, /in use/);
    assert.equal((await keys(third)).length, 2);

    // The other key is the one of 'first password'; remove it by a prefix of its id.
    await third.ok(['key', 'remove', other.id.slice(0, 12)]);
    assert.deepEqual(
      (await keys(third)).map((k) => k.id),
      [current.id],
    );
    const gone = await repo.run(['snapshots']);
    assert.equal(gone.code, 12, describeResult(['snapshots'], gone));
    // The data is still readable with the remaining key.
    assert.equal((await third.ok(['dump', 'latest', join(src, 'file')])).stdout, 'data\n');
  });
});
