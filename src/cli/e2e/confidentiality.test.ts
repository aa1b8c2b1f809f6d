/**
 * End to end: nothing the user backs up is readable in the repository. Unique markers placed in
 * file contents (compressible and not), file and directory names, a symlink target, an xattr name
 * and value, tags, the host name and the password must not occur in the bytes of any repository
 * file — while the restore shows that every marker was really backed up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lgetxattr, lsetxattr } from '../../sources/index.js';
import { CliRepo } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { listFiles } from '../../testing/repo-files.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

/** A marker no repository could contain by chance. */
function marker(kind: string): string {
  return `MARK${kind}${randomBytes(8).toString('hex')}`;
}

void describe('no plaintext in the repository', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  const m = {
    content: marker('content'),
    bigContent: marker('bigcontent'),
    fileName: marker('filename'),
    dirName: marker('dirname'),
    linkTarget: marker('linktarget'),
    xattrName: marker('xattrname'),
    xattrValue: marker('xattrvalue'),
    tag: marker('tag'),
    host: marker('host'),
    stdinName: marker('stdinname'),
    stdinContent: marker('stdincontent'),
  };

  before(async () => {
    tmp = await makeTempDir('plaintext');
    src = join(tmp, 'src');
    await mkdir(join(src, m.dirName), { recursive: true });
    // Compressible content repeats the marker; incompressible content hides one copy in noise.
    await writeFile(join(src, 'notes.txt'), `${m.content}\n`.repeat(5000));
    await writeFile(
      join(src, 'noise.bin'),
      Buffer.concat([
        seededBytes(300_000, 'n1'),
        Buffer.from(m.bigContent),
        seededBytes(300_000, 'n2'),
      ]),
    );
    await writeFile(join(src, m.dirName, `${m.fileName}.txt`), 'small\n');
    await symlink(`../${m.linkTarget}/target`, join(src, 'link'));
    lsetxattr(
      Buffer.from(join(src, 'notes.txt')),
      Buffer.from(`user.${m.xattrName}`),
      Buffer.from(m.xattrValue),
    );
    repo = new CliRepo(join(tmp, 'repo'), `pw-${marker('password')}`);
    await repo.init();
    await repo.backup(['--tag', m.tag, '--host', m.host, src]);
    await repo.backup(['--stdin', '--stdin-filename', m.stdinName], {
      stdin: `${m.stdinContent}\n`.repeat(100),
    });
  });
  after(() => removeTempDir(tmp));

  void it('no marker, and not the password, occurs in any repository file', async () => {
    const needles = [...Object.entries(m), ['password', repo.password] as const];
    const files = await listFiles(repo.path);
    assert.ok(files.length >= 8, `${files.length} files in the repository`);
    const found: string[] = [];
    for (const file of files) {
      const bytes = await readFile(file);
      for (const [kind, needle] of needles) {
        if (bytes.includes(Buffer.from(needle))) found.push(`${kind} in ${file}`);
      }
    }
    assert.deepEqual(found, []);
  });

  void it('every marker was backed up (the test is not vacuous)', async () => {
    const target = join(tmp, 'restore');
    await repo.ok(['restore', 'latest', '--host', m.host, '--target', target]);
    const back = join(target, src);
    assert.equal(await readFile(join(back, 'notes.txt'), 'utf8'), `${m.content}\n`.repeat(5000));
    assert.ok((await readFile(join(back, 'noise.bin'))).includes(Buffer.from(m.bigContent)));
    assert.equal(await readFile(join(back, m.dirName, `${m.fileName}.txt`), 'utf8'), 'small\n');
    assert.equal(await readlink(join(back, 'link')), `../${m.linkTarget}/target`);
    const value = lgetxattr(
      Buffer.from(join(back, 'notes.txt')),
      Buffer.from(`user.${m.xattrName}`),
    );
    assert.equal(value.toString(), m.xattrValue);
    const [first] = await repo.snapshots('--host', m.host);
    assert.deepEqual(first?.tags, [m.tag]);
    const dumped = await repo.ok(['dump', 'latest', `/${m.stdinName}`]);
    assert.equal(dumped.stdout, `${m.stdinContent}\n`.repeat(100));
  });
});
