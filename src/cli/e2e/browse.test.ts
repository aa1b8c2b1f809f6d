/**
 * End to end: looking into a repository without restoring — ls, diff, dump, stats and cat — on
 * two snapshots of a tree that changed in between.
 */
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { walkTree } from '../../testing/tree-compare.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

void describe('ls, diff, dump, stats, cat', () => {
  let tmp: string;
  let src: string;
  let repo: CliRepo;
  let first: string;
  let second: string;
  const p = (rel: string): string => join(src, rel);

  before(async () => {
    tmp = await makeTempDir('browse');
    src = join(tmp, 'src');
    await mkdir(p('dir/sub'), { recursive: true });
    await writeFile(p('a.txt'), 'version 1\n');
    await writeFile(p('dir/big.bin'), seededBytes(2_500_000, 'browse-big'));
    await writeFile(p('dir/removed.txt'), 'will be removed\n');
    await writeFile(p('dir/sub/same.txt'), 'never changes\n');
    await writeFile(p('empty'), '');
    await symlink('a.txt', p('link'));
    repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
    first = (await repo.backup([src])).snapshot_id ?? '';
    await writeFile(p('a.txt'), 'version 2, longer\n');
    await rm(p('dir/removed.txt'));
    await writeFile(p('dir/added.txt'), 'new in the second snapshot\n');
    await chmod(p('dir/big.bin'), 0o600); // metadata only
    second = (await repo.backup([src])).snapshot_id ?? '';
    assert.ok(first && second);
  });
  after(() => removeTempDir(tmp));

  void it('ls lists every path of a snapshot, and of a subdirectory', async () => {
    const lines = async (snapshot: string): Promise<string[]> =>
      (await repo.ok(['ls', snapshot])).stdout.split('\n').filter((l) => l.startsWith('/'));
    // The second snapshot is the tree as it is now; its parents are there too (absolute paths).
    const now = (await walkTree(src)).map((rel) => join(src, rel.toString()));
    assert.deepEqual(
      (await lines(second)).filter((l) => l.startsWith(`${src}/`)).sort(),
      now.sort(),
    );
    assert.ok((await lines(second)).includes(tmp));
    const old = await lines(first);
    assert.ok(old.includes(p('dir/removed.txt')));
    assert.ok(!old.includes(p('dir/added.txt')));

    const sub = (await repo.ok(['ls', second, p('dir')])).stdout;
    assert.ok(sub.includes(p('dir/added.txt')));
    assert.ok(!sub.includes(p('a.txt')));
    const long = (await repo.ok(['ls', '-l', second, p('dir')])).stdout;
    assert.match(long, /-rw-------.*2500000.*big\.bin/);
  });

  void it('diff marks added (+), removed (-) and modified (M) paths', async () => {
    const out = (await repo.ok(['diff', first, second])).stdout;
    const marker = (path: string): string | undefined =>
      out
        .split('\n')
        .find((l) => l.trimEnd().endsWith(` ${path}`))
        ?.split(/\s+/)[0];
    assert.equal(marker(p('dir/added.txt')), '+', out);
    assert.equal(marker(p('dir/removed.txt')), '-', out);
    assert.equal(marker(p('a.txt')), 'M', out);
    assert.equal(marker(p('dir/sub/same.txt')), undefined, 'unchanged files are not listed');
    assert.notEqual(marker(p('dir/big.bin')), 'M', 'a mode change is not a content change');
    // The reverse diff swaps + and -.
    const back = (await repo.ok(['diff', second, first])).stdout;
    assert.ok(back.split('\n').some((l) => /^-\s/.test(l) && l.endsWith(p('dir/added.txt'))));
  });

  void it('dump writes a file byte-identical to the source', async () => {
    const big = await repo.ok(['dump', second, p('dir/big.bin')]);
    assert.ok(big.stdoutBytes.equals(seededBytes(2_500_000, 'browse-big')));
    assert.equal((await repo.ok(['dump', first, p('a.txt')])).stdout, 'version 1\n');
    assert.equal((await repo.ok(['dump', second, p('a.txt')])).stdout, 'version 2, longer\n');
    assert.equal((await repo.ok(['dump', second, p('empty')])).stdoutBytes.length, 0);
    const missing = await repo.run(['dump', second, p('dir/removed.txt')]);
    assert.notEqual(missing.code, 0);
  });

  void it('stats: the restore size is the sum of the file sizes', async () => {
    let sum = 0;
    let files = 0;
    for (const rel of await walkTree(src)) {
      const st = await lstat(join(src, rel.toString()));
      if (st.isFile()) {
        sum += st.size;
        files++;
      }
    }
    const stats = JSON.parse((await repo.ok(['stats', '--json', second])).stdout) as {
      total_size: number;
      total_file_count: number;
    };
    assert.equal(stats.total_size, sum);
    assert.ok(stats.total_file_count >= files, JSON.stringify(stats));
    const text = (await repo.ok(['stats', second])).stdout;
    assert.match(text, /Restore size/i);
  });

  void it('cat config shows the configuration but no secret', async () => {
    const out = (await repo.ok(['cat', 'config'])).stdout;
    const config = JSON.parse(out) as Record<string, unknown>;
    assert.equal(config.version !== undefined, true);
    // Secret fields are masked; nothing else looks like key material (long hex/base64 runs),
    // except the repository id.
    const strings: string[] = [];
    const collect = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(config);
    const secretLooking = strings.filter(
      (s) => s !== config.id && /^[A-Za-z0-9+/=_-]{24,}$/.test(s),
    );
    assert.deepEqual(secretLooking, [], out);
    assert.ok(
      strings.some((s) => /secret/i.test(s)),
      `secrets shown as masked:\n${out}`,
    );
    assert.ok(!out.includes(repo.password));
    const snap = JSON.parse((await repo.ok(['cat', 'snapshot', second])).stdout) as {
      paths: string[];
    };
    assert.deepEqual(snap.paths, [src]);
  });
});
