/**
 * End to end: `copy` between repositories with different keys and with shared content keys,
 * local to local and local to a repository server. A second run copies nothing; the destination
 * passes `check --read-data` and restores byte for byte (rsync as the oracle); an incremental
 * copy reads only what changed.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo } from '../../testing/cli-harness.js';
import { namesMadeIn } from '../../testing/names-made.js';
import { seededBytes, writeSeededFile } from '../../testing/random-data.js';
import { startRestServer, type RestServerFixture } from '../../testing/rest-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

interface CopySummary {
  snapshots_copied: number;
  snapshots_skipped: number;
  same_blob_ids: boolean;
  blobs_added: number;
  blobs_read: number;
  bytes_read: number;
}

async function copy(
  dst: CliRepo,
  src: CliRepo,
  args: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<CopySummary> {
  const r = await dst.ok(['copy', '--json', '--from-repo', src.path, ...args], {
    env: { HOLDFAST_FROM_PASSWORD: src.password, ...env },
  });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
  return JSON.parse(lines[lines.length - 1]!) as CopySummary;
}

/** Restores `ref` from `repo` and compares it with `expected` using rsync. */
async function assertRestores(repo: CliRepo, ref: string, expected: string, target: string) {
  await repo.ok(['restore', ref, '--target', target]);
  assert.equal(await rsyncDifferences(expected, join(target, expected)), '');
}

void describe('copy', () => {
  let tmp: string;
  let data: string;
  let src: CliRepo;
  let server: RestServerFixture;
  before(async () => {
    tmp = await makeTempDir('copy');
    server = await startRestServer();
    data = join(tmp, 'data');
    await mkdir(join(data, 'docs', 'deep'), { recursive: true });
    await writeSeededFile(join(data, 'big.bin'), 3 * 1024 * 1024 + 17, 'copy-big');
    await writeSeededFile(join(data, 'docs', 'deep', 'mid.bin'), 700_000, 'copy-mid');
    for (let i = 0; i < 30; i++)
      await writeFile(join(data, 'docs', `note-${i}.txt`), seededBytes(200 + i * 31, `n${i}`));
    await writeFile(join(data, 'empty'), '');
    await symlink('docs/note-1.txt', join(data, 'link'));
    src = new CliRepo(join(tmp, 'src'), 'source password');
    await src.init();
    await src.backup(['--host', 'alpha', data]);
    await writeFile(join(data, 'docs', 'note-2.txt'), 'changed between snapshots\n');
    await src.backup(['--host', 'beta', '--tag', 'second', data]);
  });
  after(async () => {
    await server.stop();
    await removeTempDir(tmp);
  });

  void it('copies to a repository with other keys once; the copy checks and restores', async () => {
    const dst = new CliRepo(join(tmp, 'dst-other-keys'), 'destination password');
    await dst.init();
    const first = await copy(dst, src);
    assert.equal(first.snapshots_copied, 2);
    assert.equal(first.same_blob_ids, false);
    const again = await copy(dst, src);
    assert.deepEqual([again.snapshots_copied, again.snapshots_skipped], [0, 2]);
    assert.equal(again.blobs_read, 0);
    const sources = await src.snapshots();
    const copies = await dst.snapshots();
    assert.equal(copies.length, 2);
    const originals = copies.map((c) => (c as { original?: string }).original).sort();
    assert.deepEqual(originals, sources.map((s) => s.id).sort());
    assert.ok(copies.every((c, i) => c.hostname === sources[i]!.hostname));
    assert.deepEqual(copies[1]!.tags, ['second']);
    await dst.ok(['check', '--read-data']);
    await assertRestores(dst, 'latest', data, join(tmp, 'restore-other-keys'));
    // Copying back finds everything already there: copies share the original's identity.
    const back = await copy(src, dst);
    assert.deepEqual([back.snapshots_copied, back.snapshots_skipped], [0, 2]);
  });

  void it('an incremental copy reads only what changed', async () => {
    const dst = new CliRepo(join(tmp, 'dst-incremental'), 'destination password');
    await dst.init();
    await copy(dst, src);
    await writeSeededFile(join(data, 'docs', 'deep', 'mid.bin'), 650_000, 'copy-mid-2');
    await src.backup(['--host', 'beta', data]);
    const next = await copy(dst, src);
    assert.equal(next.snapshots_copied, 1);
    assert.ok(next.bytes_read <= 650_000, `read ${next.bytes_read} bytes for a 650 kB change`);
    // The new source snapshot's parent is the previous beta snapshot; the copy points at its copy.
    const copies = await dst.snapshots('--host', 'beta');
    const parent = (copies[1] as { parent?: string }).parent;
    assert.equal(parent, copies[0]!.id, 'parent maps to the copy of the parent');
    await dst.ok(['check', '--read-data']);
    await assertRestores(dst, 'latest', data, join(tmp, 'restore-incremental'));
  });

  void it('with shared content keys copies trees unchanged', async () => {
    const dst = new CliRepo(join(tmp, 'dst-same-keys'), 'destination password');
    const pw = join(tmp, 'src-password');
    await writeFile(pw, src.password);
    await dst.ok([
      'init',
      '--copy-chunker-params',
      '--from-repo',
      src.path,
      '--from-password-file',
      pw,
    ]);
    const summary = await copy(dst, src, ['--host', 'alpha']);
    assert.equal(summary.same_blob_ids, true);
    assert.equal(summary.snapshots_copied, 1);
    const [copied] = await dst.snapshots();
    const [original] = await src.snapshots('--host', 'alpha');
    assert.equal(copied!.tree, original!.tree, 'same tree id in both repositories');
    await dst.ok(['check', '--read-data']);
  });

  void it('copies to a repository server, once', async () => {
    const dst = new CliRepo(server.location('copies'), 'destination password');
    await dst.init();
    // Its data packs are filled in a spool in TMPDIR, removed at the end (ADR 0014).
    const spoolParent = join(tmp, 'copy-spool');
    await mkdir(spoolParent);
    let first!: CopySummary;
    const made = await namesMadeIn(spoolParent, async () => {
      first = await copy(dst, src, [], { TMPDIR: spoolParent });
    });
    assert.ok(
      made.some((name) => name.startsWith('holdfast-spool-')),
      JSON.stringify(made),
    );
    assert.deepEqual(await readdir(spoolParent), []);
    assert.equal(first.snapshots_copied, 3);
    const again = await copy(dst, src);
    assert.equal(again.snapshots_copied, 0);
    assert.equal((await dst.snapshots()).length, 3);
    await dst.ok(['check', '--read-data']);
    await assertRestores(dst, 'latest', data, join(tmp, 'restore-rest'));
  });

  void it('refuses to copy a repository into itself and needs a source', async () => {
    const r = await src.run(['copy', '--from-repo', src.path], {
      env: { HOLDFAST_FROM_PASSWORD: src.password },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /same repository/);
    const none = await src.run(['copy']);
    assert.equal(none.code, 2, none.stderr);
  });
});
