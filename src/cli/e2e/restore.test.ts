/**
 * End to end: restore options — --include and --exclude select paths (an exclude also applies
 * inside an included directory), --verify reads everything back — and `repair index` rebuilds a
 * lost index from the packs, after which check and restore work again.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences, walkTree } from '../../testing/tree-compare.js';

void describe('restore --include, --exclude, --verify', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  let n = 0;
  const p = (rel: string): string => join(src, rel);

  /** Restores with the given options into a fresh target; returns restored paths below src. */
  async function restored(...options: string[]): Promise<string[]> {
    const target = join(tmp, `restore-${n++}`);
    await repo.ok(['restore', 'latest', '--target', target, ...options]);
    const root = join(target, src);
    return (await readdir(target)).length === 0
      ? []
      : (await walkTree(root).catch(() => [])).map((b) => b.toString()).sort();
  }

  before(async () => {
    tmp = await makeTempDir('restore');
    src = join(tmp, 'src');
    await mkdir(p('docs/drafts'), { recursive: true });
    await mkdir(p('photos'), { recursive: true });
    await writeFile(p('docs/report.txt'), 'report\n');
    await writeFile(p('docs/notes.md'), 'notes\n');
    await writeFile(p('docs/drafts/draft.txt'), 'draft\n');
    await writeFile(p('photos/cat.jpg'), seededBytes(1_200_000, 'cat'));
    await writeFile(p('photos/dog.jpg'), seededBytes(900_000, 'dog'));
    await writeFile(p('top.txt'), 'top\n');
    repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
    await repo.backup([src]);
  });
  after(() => removeTempDir(tmp));

  void it('--include restores only the matching subtree', async () => {
    assert.deepEqual(await restored('--include', p('docs')), [
      'docs',
      'docs/drafts',
      'docs/drafts/draft.txt',
      'docs/notes.md',
      'docs/report.txt',
    ]);
    assert.deepEqual(await restored('--include', '*.jpg'), [
      'photos',
      'photos/cat.jpg',
      'photos/dog.jpg',
    ]);
  });

  void it('--exclude leaves out matches at any depth', async () => {
    assert.deepEqual(await restored('--exclude', '*.txt'), [
      'docs',
      'docs/drafts',
      'docs/notes.md',
      'photos',
      'photos/cat.jpg',
      'photos/dog.jpg',
    ]);
    assert.deepEqual(await restored('--exclude', 'photos', '--exclude', 'drafts'), [
      'docs',
      'docs/notes.md',
      'docs/report.txt',
      'top.txt',
    ]);
  });

  void it('--exclude applies inside an --include', async () => {
    assert.deepEqual(await restored('--include', p('docs'), '--exclude', 'drafts'), [
      'docs',
      'docs/notes.md',
      'docs/report.txt',
    ]);
  });

  void it('--verify reads the restore back and reports it verified', async () => {
    const target = join(tmp, 'verified');
    const r = await repo.ok(['restore', 'latest', '--target', target, '--verify']);
    assert.match(r.stdout + r.stderr, /verified/);
    assert.equal(await rsyncDifferences(src, join(target, src)), '');
  });

  void it('--json reports progress, ending with the final counts, then the summary', async () => {
    const lines = async (...options: string[]) =>
      (
        await repo.ok([
          '--json',
          'restore',
          'latest',
          '--target',
          join(tmp, `json-${n++}`),
          ...options,
        ])
      ).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const bytes = 7 + 6 + 6 + 1_200_000 + 900_000 + 4;
    const full = await lines();
    const statuses = full.filter((m) => m.message_type === 'status');
    assert.ok(statuses.length >= 1, 'at least the final status');
    assert.equal(full.at(-1)!.message_type, 'summary');
    // A full restore knows its totals from the snapshot's summary.
    assert.deepEqual(
      [statuses.at(-1)!.files_done, statuses.at(-1)!.total_files, statuses.at(-1)!.bytes_done],
      [6, 6, bytes],
    );
    assert.equal(statuses.at(-1)!.total_bytes, bytes);
    assert.equal(statuses.at(-1)!.percent_done, 1);
    // A selection does not: counts without totals.
    const some = (await lines('--include', p('photos'))).filter((m) => m.message_type === 'status');
    assert.deepEqual(
      [some.at(-1)!.files_done, some.at(-1)!.total_files, some.at(-1)!.bytes_done],
      [2, 0, 2_100_000],
    );
  });
});

void describe('repair index', () => {
  let tmp: string;
  before(async () => {
    tmp = await makeTempDir('repair');
  });
  after(() => removeTempDir(tmp));

  void it('rebuilds a deleted index; check --read-data and restore work again', async () => {
    const src = join(tmp, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    for (let i = 0; i < 6; i++) {
      await writeFile(join(src, 'sub', `f${i}.bin`), seededBytes(700_000 + i, `repair-${i}`));
    }
    await writeFile(join(src, 'small.txt'), 'small\n');
    const repo = new CliRepo(join(tmp, 'repo'));
    await repo.init('--pack-size', '4MiB');
    await repo.backup([src]);
    await writeFile(join(src, 'later.txt'), 'second snapshot\n');
    await repo.backup([src]);

    const indexDir = join(repo.path, 'index');
    const indexFiles = await readdir(indexDir);
    assert.ok(indexFiles.length >= 1);
    for (const f of indexFiles) await rm(join(indexDir, f));
    const broken = await repo.run(['restore', 'latest', '--target', join(tmp, 'broken')]);
    assert.notEqual(broken.code, 0, 'without an index the data cannot be found');

    await repo.ok(['repair', 'index']);
    assert.ok((await readdir(indexDir)).length >= 1, 'a new index was written');
    const check = await repo.run(['check', '--read-data']);
    assert.equal(check.code, 0, describeResult(['check', '--read-data'], check));
    const target = join(tmp, 'restored');
    await repo.ok(['restore', 'latest', '--target', target]);
    assert.equal(await rsyncDifferences(src, join(target, src)), '');
    // And backups go on deduplicating against the rebuilt index.
    const again = await repo.backup(['--force', src]);
    assert.equal(again.data_blobs, 0);
  });
});
