/**
 * End to end: what `backup` options change. Exclude patterns, exclude files and cache
 * directories leave paths out; --dry-run writes nothing at all; --tag, --host and --time are
 * recorded and shown by `snapshots --json` under restic's field names.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo } from '../../testing/cli-harness.js';
import { namesMadeIn } from '../../testing/names-made.js';
import { fileDigests } from '../../testing/repo-files.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

const CACHEDIR_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** The paths `ls` lists for a snapshot, one per line. */
async function listed(repo: CliRepo, snapshot: string): Promise<Set<string>> {
  const r = await repo.ok(['ls', snapshot]);
  return new Set(r.stdout.split('\n').filter((l) => l.startsWith('/')));
}

void describe('backup options', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  const p = (rel: string): string => join(src, rel);

  before(async () => {
    tmp = await makeTempDir('options');
    src = join(tmp, 'src');
    await put(p('keep.txt'), 'kept\n');
    await put(p('scratch.tmp'), 'excluded by --exclude\n');
    await put(p('sub/deeper/also.tmp'), 'excluded by --exclude at any depth\n');
    await put(p('sub/deeper/kept.md'), 'kept\n');
    await put(p('logs/app.log'), 'excluded by the exclude file\n');
    await put(p('node_modules/pkg/index.js'), 'excluded by the exclude file\n');
    await put(p('cache/CACHEDIR.TAG'), `${CACHEDIR_SIGNATURE}\n# a cache directory\n`);
    await put(p('cache/blob'), 'excluded: in a tagged cache dir\n');
    await put(p('cache/nested/blob'), 'excluded: in a tagged cache dir\n');
    await put(p('not-a-cache/CACHEDIR.TAG'), 'Signature: 0123456789abcdef0123456789abcdef\n');
    await put(p('not-a-cache/blob'), 'kept: the tag has the wrong signature\n');
    await put(join(tmp, 'excludes'), '# patterns, one per line\nlogs\n\n  node_modules  \n');
    repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
  });
  after(() => removeTempDir(tmp));

  void it('--exclude, --exclude-file and --exclude-caches leave the right paths out', async () => {
    const summary = await repo.backup([
      '--exclude',
      '*.tmp',
      '--exclude-file',
      join(tmp, 'excludes'),
      '--exclude-caches',
      src,
    ]);
    const paths = await listed(repo, summary.snapshot_id ?? 'latest');
    for (const kept of [
      'keep.txt',
      'sub/deeper/kept.md',
      'not-a-cache/CACHEDIR.TAG',
      'not-a-cache/blob',
      // As in restic, a cache directory is kept with its tag, but nothing else in it.
      'cache/CACHEDIR.TAG',
    ]) {
      assert.ok(paths.has(p(kept)), `${kept} is in the snapshot`);
    }
    for (const excluded of [
      'scratch.tmp',
      'sub/deeper/also.tmp',
      'logs',
      'logs/app.log',
      'node_modules',
      'node_modules/pkg/index.js',
      'cache/blob',
      'cache/nested',
    ]) {
      assert.ok(!paths.has(p(excluded)), `${excluded} is excluded`);
    }
    // Without the options, everything is there.
    const all = await listed(repo, (await repo.backup([src])).snapshot_id ?? 'latest');
    for (const rel of ['scratch.tmp', 'logs/app.log', 'node_modules/pkg/index.js', 'cache/blob']) {
      assert.ok(all.has(p(rel)), rel);
    }
  });

  void it('--dry-run reports what it would do and writes nothing', async () => {
    await put(p('new-file.bin'), 'x'.repeat(100_000));
    const before = await fileDigests(repo.path);
    const snapshotsBefore = await repo.snapshots();
    const summary = await repo.backup(['--dry-run', src]);
    assert.equal(summary.dry_run, true);
    assert.equal(summary.files_new, 1, 'it still finds the new file');
    assert.equal(summary.snapshot_id, undefined);
    const text = await repo.ok(['backup', '-n', src]);
    assert.match(text.stdout + text.stderr, /dry run/i);
    assert.deepEqual(await fileDigests(repo.path), before, 'no repository file changed');
    assert.deepEqual(await repo.snapshots(), snapshotsBefore);
  });

  void it('a local repository takes its packs from memory: no spool is made', async () => {
    // Spooling would put every byte through the page cache twice (ADR 0014); the repository
    // server's test shows a network repository's backup spooling.
    const spoolParent = join(tmp, 'spool-parent');
    await mkdir(spoolParent);
    const made = await namesMadeIn(spoolParent, () =>
      repo.ok(['backup', src], { env: { TMPDIR: spoolParent } }),
    );
    assert.deepEqual(made, []);
    await repo.ok(['check', '--read-data']);
  });

  void it('--tag, --host and --time are recorded with restic field names', async () => {
    await repo.backup(['--tag', 'daily,db', '--tag', 'offsite', '--host', 'db-01', src]);
    await repo.backup([
      '--tag',
      'imported',
      '--host',
      'db-01',
      '--time',
      '2021-03-04 05:06:07',
      src,
    ]);
    const tagged = await repo.snapshots('--host', 'db-01');
    assert.equal(tagged.length, 2);
    const [first, imported] = tagged.sort((a, b) => a.time.localeCompare(b.time)).reverse();
    assert.ok(first && imported);
    assert.deepEqual(first.tags, ['daily', 'db', 'offsite']);
    assert.equal(first.hostname, 'db-01');
    // --time is local time, as in restic.
    assert.equal(new Date(imported.time).getTime(), new Date(2021, 2, 4, 5, 6, 7).getTime());
    assert.deepEqual(imported.tags, ['imported']);
    for (const field of ['id', 'short_id', 'time', 'hostname', 'username', 'paths', 'summary']) {
      assert.ok(field in first, `field ${field}`);
    }
    assert.equal(first.short_id, first.id.slice(0, 8));
    assert.match(first.id, /^[0-9a-f]{64}$/);
    assert.deepEqual(first.paths, [src]);
    // A later backup of the same host and paths names its parent.
    const child = await repo.backup(['--host', 'db-01', src]);
    const latest = (await repo.snapshots('--host', 'db-01')).find(
      (s) => s.id === child.snapshot_id,
    );
    assert.ok(latest?.parent, 'parent field is set');
    assert.ok(tagged.some((s) => s.id === latest.parent));

    const byTag = await repo.snapshots('--tag', 'offsite');
    assert.deepEqual(
      byTag.map((s) => s.id),
      [first.id],
    );
  });
});
