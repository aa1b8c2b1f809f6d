/**
 * End to end: `forget` through the in-process CLI against a real repository. Snapshots are made
 * with `backup --time`; a dry run changes nothing, a real run removes exactly what the policy
 * says, and a snapshot dated in the future never causes a removal.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

interface ForgetGroupJson {
  host: string;
  paths: string[] | null;
  tags: string[] | null;
  keep: { id: string; time: string }[] | null;
  remove: { id: string; time: string }[] | null;
  reasons:
    { snapshot: { id: string }; matches: string[]; counters: Record<string, number> }[] | null;
}

async function setup(name: string): Promise<{ tmp: string; repo: CliRepo; src: string }> {
  const tmp = await makeTempDir(`forget-${name}`);
  const src = join(tmp, 'src');
  await mkdir(src);
  await writeFile(join(src, 'file'), 'content');
  const repo = new CliRepo(join(tmp, 'repo'));
  await repo.init();
  return { tmp, repo, src };
}

/** Backs up `src` at each time and returns time → snapshot id. */
async function backups(
  repo: CliRepo,
  src: string,
  times: readonly string[],
  host = 'h1',
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const time of times) {
    const s = await repo.backup(['--host', host, '--time', time, src]);
    assert.ok(s.snapshot_id);
    ids.set(time, s.snapshot_id);
  }
  return ids;
}

async function snapshotTimes(repo: CliRepo): Promise<string[]> {
  return (await repo.snapshots()).map((s) => new Date(s.time).toISOString());
}

const iso = (t: string): string => new Date(t).toISOString();

void describe('forget', () => {
  let tmp: string;
  let repo: CliRepo;
  let ids: Map<string, string>;
  const h1 = [
    '2024-03-01T10:00:00Z',
    '2024-03-02T09:00:00Z',
    '2024-03-02T18:00:00Z',
    '2024-03-03T10:00:00Z',
    '2024-03-04T10:00:00Z',
  ];
  const h2 = ['2024-03-01T12:00:00Z'];

  before(async () => {
    let src: string;
    ({ tmp, repo, src } = await setup('policy'));
    ids = await backups(repo, src, h1);
    for (const [t, id] of await backups(repo, src, h2, 'h2')) ids.set(t, id);
  });
  after(() => removeTempDir(tmp));

  void it('--dry-run --json reports restic-shaped groups and changes nothing', async () => {
    const before = await snapshotTimes(repo);
    const r = await repo.ok(['forget', '--keep-daily', '2', '--tz', 'UTC', '--dry-run', '--json']);
    const groups = JSON.parse(r.stdout) as ForgetGroupJson[];
    assert.deepEqual(
      groups.map((g) => [g.host, g.tags, g.paths?.length]),
      [
        ['h1', null, 1],
        ['h2', null, 1],
      ],
    );
    const g1 = groups[0]!;
    assert.deepEqual(
      g1.keep!.map((s) => iso(s.time)),
      [iso(h1[4]!), iso(h1[3]!)],
    );
    assert.deepEqual(
      g1.remove!.map((s) => iso(s.time)),
      [iso(h1[2]!), iso(h1[1]!), iso(h1[0]!)],
    );
    assert.deepEqual(g1.reasons![0], {
      snapshot: g1.reasons![0]!.snapshot,
      matches: ['daily snapshot'],
      counters: { daily: 1 },
    });
    assert.equal(g1.reasons![0].snapshot.id, ids.get(h1[4]!));
    assert.equal(groups[1]?.remove, null);
    assert.deepEqual(await snapshotTimes(repo), before);
  });

  void it('prints restic-like tables with reasons', async () => {
    const r = await repo.ok(['forget', '--keep-daily', '2', '--tz', 'Europe/Berlin', '--dry-run']);
    assert.match(r.stdout, /snapshots for \(host \[h1\], paths \[.*\]\):/);
    assert.match(r.stdout, /keep 2 snapshots:/);
    assert.match(r.stdout, /2024-03-04 11:00:00 +h1 +daily snapshot/);
    assert.match(r.stdout, /remove 3 snapshots:/);
    assert.match(r.stdout, /would remove 3 snapshots/);
  });

  void it('refuses to run without a policy, and ids together with a policy', async () => {
    const none = await repo.run(['forget']);
    assert.equal(none.code, 2, describeResult(['forget'], none));
    assert.match(none.stderr, /no policy was specified/);
    const all = await repo.run(['forget', '--unsafe-allow-remove-all']);
    assert.equal(all.code, 2);
    assert.match(all.stderr, /snapshot filter/);
    const both = await repo.run(['forget', '--keep-last', '1', ids.get(h1[0]!)!]);
    assert.equal(both.code, 2);
    const bad = await repo.run(['forget', '--keep-daily', '-1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unlimited/);
    const zone = await repo.run(['forget', '--keep-daily', '1', '--tz', 'Mars/Olympus']);
    assert.equal(zone.code, 2);
  });

  void it('removes exactly what the policy says', async () => {
    const r = await repo.ok(['forget', '--keep-daily', '2', '--tz', 'UTC']);
    assert.match(r.stdout, /removed 3 snapshots/);
    assert.deepEqual((await snapshotTimes(repo)).sort(), [h2[0]!, h1[3]!, h1[4]!].map(iso).sort());
  });

  void it('removes snapshots named by id, honouring --host', async () => {
    const id = ids.get(h1[3]!)!;
    const wrongHost = await repo.run(['forget', '--host', 'h2', id.slice(0, 10)]);
    assert.equal(wrongHost.code, 1);
    await repo.ok(['forget', id.slice(0, 10)]);
    assert.deepEqual((await snapshotTimes(repo)).sort(), [h2[0]!, h1[4]!].map(iso).sort());
  });

  void it('--unsafe-allow-remove-all removes every filtered snapshot', async () => {
    await repo.ok(['forget', '--unsafe-allow-remove-all', '--host', 'h2']);
    assert.deepEqual(await snapshotTimes(repo), [iso(h1[4]!)]);
  });
});

void describe('forget with a future-dated snapshot', () => {
  let tmp: string;
  let repo: CliRepo;
  let src: string;
  const past = ['2024-03-01T10:00:00Z', '2024-03-02T10:00:00Z', '2024-03-03T10:00:00Z'];
  const future = '2099-01-01T00:00:00Z';

  before(async () => {
    ({ tmp, repo, src } = await setup('future'));
    await backups(repo, src, [...past, future]);
  });
  after(() => removeTempDir(tmp));

  void it('never lets it take the keep-last slot', async () => {
    const r = await repo.ok(['forget', '--keep-last', '1', '--dry-run', '--json']);
    const [g] = JSON.parse(r.stdout) as ForgetGroupJson[];
    assert.deepEqual(
      g!.keep!.map((s) => iso(s.time)),
      [iso(future), iso(past[2]!)],
    );
    assert.deepEqual(g!.reasons![0]!.matches, [
      'future-dated (clock skew or forgery): never drives removal',
    ]);
    assert.match(r.stderr, /in the future|after this host's clock/);
  });

  void it('measures keep-within from the newest snapshot that is not in the future', async () => {
    // Measured from 2099 this would remove every real snapshot.
    await repo.ok(['forget', '--keep-within', '2d', '--tz', 'UTC']);
    assert.deepEqual(await snapshotTimes(repo), [past[1]!, past[2]!, future].map(iso));
  });

  void it('is itself removed only by id', async () => {
    const list = await repo.snapshots();
    const forged = list.find((s) => iso(s.time) === iso(future))!;
    await repo.ok(['forget', forged.short_id]);
    assert.deepEqual(await snapshotTimes(repo), [past[1]!, past[2]!].map(iso));
  });
});
