/**
 * The PostgreSQL WAL archive against a real server: repeated base backups deduplicate; wal-push
 * accepts the same file twice and refuses different content under an archived name; wal-fetch
 * fails for a missing file; `pg check` reports a missing segment as a gap (exit 13); and
 * `pg forget-wal` drops the WAL no remaining base backup needs, which heals the check; restores
 * to a restore point and to an LSN. The cluster has Debian's layout (configuration outside the
 * data directory), so restores must supply minimal configuration files.
 */
import assert from 'node:assert/strict';
import { chmod, chown, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binaryUsableBy, runBinary, type BinaryResult } from '../../testing/binary.js';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import {
  freePort,
  PG_BINDIR,
  PgServer,
  postgresDir,
  postgresIds,
  requireServer,
  skipUnless,
} from '../../testing/postgres.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

interface WalSnapshot {
  readonly id: string;
  readonly meta: Record<string, string>;
}

void describe('pg WAL archive', { skip: skipUnless(PG_BINDIR !== undefined, 'PostgreSQL') }, () => {
  let tmp: string;
  let server: PgServer;
  let repo: CliRepo;
  let holdfast: string;
  let scratch: string;

  function asPostgres(argv: string[], cwd?: string): Promise<BinaryResult> {
    return runBinary(argv, {
      user: 'postgres',
      binary: holdfast,
      env: repo.env(),
      ...(cwd && { cwd }),
    });
  }
  async function ok(argv: string[], cwd?: string): Promise<string> {
    const r = await asPostgres(argv, cwd);
    assert.equal(r.code, 0, `holdfast ${argv.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
  async function walSnapshots(): Promise<WalSnapshot[]> {
    return (await repo.snapshots('--tag', 'pg-wal')) as unknown as WalSnapshot[];
  }
  interface BaseBackupResult {
    snapshot_id: string;
    meta: Record<string, string>;
    summary: Record<string, number>;
  }
  async function baseBackup(): Promise<BaseBackupResult> {
    return JSON.parse(
      await ok(['pg', 'basebackup', '--json', ...server.connectionArgs(), '--checkpoint', 'fast']),
    ) as BaseBackupResult;
  }
  /** Bytes of the WAL segments a base backup carries: start_wal to stop_wal, inclusive. */
  function walBytesIn(meta: Record<string, string>): number {
    const size = Number(meta.wal_segment_size);
    const perLog = 0x1_0000_0000 / size;
    const segmentNo = (name: string): number =>
      parseInt(name.slice(8, 16), 16) * perLog + parseInt(name.slice(16, 24), 16);
    return (segmentNo(meta.stop_wal!) - segmentNo(meta.start_wal!) + 1) * size;
  }

  before(async () => {
    requireServer(PG_BINDIR !== undefined, 'PostgreSQL');
    tmp = await makeTempDir('pgarchive');
    await chmod(tmp, 0o755);
    holdfast = await binaryUsableBy('postgres', tmp);
    scratch = await postgresDir(join(tmp, 'scratch'));
    const password = join(tmp, 'password');
    await writeFile(password, 'archive password\n', { mode: 0o600 });
    const { uid, gid } = await postgresIds();
    await chown(password, uid, gid);
    // archive_command reads the repository settings from a config file, as docs/databases.md shows.
    const config = join(tmp, 'holdfast.conf');
    const repoPath = join(await postgresDir(join(tmp, 'r')), 'repo');
    await writeFile(
      config,
      `# holdfast settings for archive_command\nHOLDFAST_REPOSITORY=${repoPath}\nHOLDFAST_PASSWORD_FILE="${password}"\n`,
      {
        mode: 0o600,
      },
    );
    await chown(config, uid, gid);
    repo = new CliRepo(repoPath);
    const env = { HOLDFAST_REPOSITORY: repoPath, HOLDFAST_PASSWORD_FILE: password };
    repo.env = (extra = {}) => ({ ...env, ...extra });
    await ok(['init']);
    // Debian's layout: the configuration lives outside the data directory and base backups.
    server = await PgServer.start({
      dir: tmp,
      externalConfig: true,
      settings: {
        archive_mode: 'on',
        archive_command: `'${process.execPath} ${holdfast} pg --config ${config} wal-push %p'`,
      },
    });
    await server.pgbench(['-i', '-s', '2', '-q']);
  });

  after(async () => {
    await server?.stop('immediate');
    await removeTempDir(tmp);
  });

  let first: { snapshot_id: string };
  let gapName: string;
  void it('a second base backup stores little new data', async () => {
    first = await baseBackup();
    // Light writes: pgbench updates rows all over its tables, and content-defined chunks
    // (≈1 MiB) only deduplicate what did not change.
    await server.sql('create table notes (id serial, body text)');
    for (let i = 0; i < 3; i++) {
      await server.sql(
        `insert into notes (body) select md5(g::text) from generate_series(1, 1000) g`,
      );
      await server.switchAndWaitArchived();
    }
    const second = await baseBackup();
    const s = second.summary;
    // The WAL written during the backup (-X fetch) is new by nature, and how many segments it
    // spans depends on checkpoint timing; what must deduplicate is the data directory.
    const wal = walBytesIn(second.meta);
    assert.ok(wal < s.total_bytes_processed!, `WAL ${wal} of ${s.total_bytes_processed}`);
    const dataAdded = s.data_added! - wal;
    assert.ok(
      dataAdded < (s.total_bytes_processed! - wal) / 2,
      `added ${s.data_added} of ${s.total_bytes_processed}, of which WAL ${wal}`,
    );
    await server.switchAndWaitArchived();
    const check = await repo.run(['pg', 'check']);
    assert.equal(check.code, 0, describeResult(['pg', 'check'], check));
  });

  void it('wal-push is idempotent for equal content and refuses different content', async () => {
    const [segment] = (await walSnapshots()).filter((w) => w.meta.wal_kind === 'segment');
    assert.ok(segment);
    const name = segment.meta.wal_name!;
    const copy = join(scratch, name);
    await writeFile(copy, (await repo.ok(['dump', segment.id, `/pg_wal/${name}`])).stdoutBytes);
    const { uid, gid } = await postgresIds();
    await chown(copy, uid, gid);
    const again = await asPostgres(['pg', 'wal-push', copy]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already archived with the same content/);
    const bytes = await readFile(copy);
    bytes[100_000] = bytes[100_000]! ^ 0xff;
    await writeFile(copy, bytes);
    const changed = await asPostgres(['pg', 'wal-push', copy]);
    assert.notEqual(changed.code, 0, 'different content under an archived name is refused');
    assert.match(changed.stderr, /already archived .* with different content; refusing/);
    // A truncated segment is never archived.
    await writeFile(join(scratch, '0000000100000000000000FE'), bytes.subarray(0, 1 << 20));
    const truncated = await asPostgres([
      'pg',
      'wal-push',
      join(scratch, '0000000100000000000000FE'),
    ]);
    assert.notEqual(truncated.code, 0);
    assert.match(truncated.stderr, /truncated/);
  });

  void it('wal-fetch writes archived files and fails for missing ones', async () => {
    const [segment] = (await walSnapshots()).filter((w) => w.meta.wal_kind === 'segment');
    const name = segment!.meta.wal_name!;
    await ok([
      'pg',
      'wal-fetch',
      '--data-dir',
      server.dataDir,
      name,
      join(scratch, 'RECOVERYXLOG'),
    ]);
    const fetched = await readFile(join(scratch, 'RECOVERYXLOG'));
    assert.ok(
      fetched.equals((await repo.ok(['dump', segment!.id, `/pg_wal/${name}`])).stdoutBytes),
    );
    const missing = await asPostgres([
      'pg',
      'wal-fetch',
      '00000001000000000000FFFF',
      join(scratch, 'x'),
    ]);
    assert.equal(missing.code, 1, missing.stderr);
    const history = await asPostgres(['pg', 'wal-fetch', '00000002.history', join(scratch, 'y')]);
    assert.equal(history.code, 1, history.stderr);
  });

  void it('pg check reports a missing segment as a gap', async () => {
    const segments = (await walSnapshots()).filter((w) => w.meta.wal_kind === 'segment');
    const middle = segments[Math.floor(segments.length / 2) - 1]!;
    gapName = middle.meta.wal_name!;
    await ok(['forget', middle.id]);
    const check = await repo.run(['pg', 'check']);
    assert.equal(check.code, 13, describeResult(['pg', 'check'], check));
    assert.match(check.stdout, new RegExp(`GAP: ${gapName} missing \\(1 segment\\)`));
    assert.match(check.stdout, /newest recoverable point/);
    const json = JSON.parse((await repo.run(['pg', 'check', '--json'])).stdout) as {
      ok: boolean;
      base_backups: { timelines: { gaps: { first: string }[] }[] }[];
    };
    assert.equal(json.ok, false);
    assert.equal(json.base_backups[0]?.timelines[0]?.gaps[0]?.first, gapName);
  });

  void it('pg forget-wal forgets WAL older than the oldest remaining base backup', async () => {
    const refused = await asPostgres(['pg', 'forget-wal', '--dry-run']);
    assert.equal(refused.code, 0, refused.stderr);
    await ok(['forget', first.snapshot_id]);
    const out = await ok(['pg', 'forget-wal', '--prune']);
    assert.match(out, /forgot \d+ older WAL snapshots/);
    const names = (await walSnapshots()).map((w) => w.meta.wal_name!);
    assert.ok(!names.includes(gapName), 'segments before the remaining base backup are gone');
    const check = await repo.run(['pg', 'check']);
    assert.equal(check.code, 0, describeResult(['pg', 'check'], check));
    await ok(['check']);
  });
  void it('restores to a named restore point (paused) and to an LSN (shut down)', async () => {
    await server.sql('create table events (id int)');
    await server.sql('insert into events values (1)');
    await server.sql("select pg_create_restore_point('before-2')");
    await server.sql('insert into events values (2)');
    const lsn = await server.sql('select pg_current_wal_insert_lsn()');
    await server.sql('insert into events values (3)');
    await server.switchAndWaitArchived();
    const common = [
      '--holdfast-command',
      `${process.execPath} ${holdfast}`,
      '--no-archive',
      '--start',
    ];

    const dir = join(tmp, 'named');
    const port = await freePort();
    const named = [
      'pg',
      'restore',
      '--target-dir',
      dir,
      '--port',
      String(port),
      '--target-name',
      'before-2',
      '--target-action',
      'pause',
      ...common,
    ];
    const r = await repo.run(named);
    const paused = PgServer.attach(dir, dir, port, join(dir, 'holdfast-restore.log'));
    try {
      assert.equal(r.code, 0, describeResult(named, r));
      assert.match(r.stdout, /recovery stopping at restore point "before-2"/);
      assert.match(r.stdout, /server paused/);
      assert.match(
        r.stderr,
        /held no postgresql.conf, pg_hba.conf, pg_ident.conf .*minimal ones were written/,
      );
      assert.equal(await paused.sql('select pg_is_in_recovery()'), 't');
      assert.equal(await paused.sql("select string_agg(id::text, ',') from events"), '1');
    } finally {
      await paused.stop('immediate');
    }

    const dir2 = join(tmp, 'bylsn');
    const byLsn = [
      'pg',
      'restore',
      '--target-dir',
      dir2,
      '--port',
      String(await freePort()),
      '--target-lsn',
      lsn,
      '--target-action',
      'shutdown',
      ...common,
    ];
    const s = await repo.run(byLsn);
    assert.equal(s.code, 0, describeResult(byLsn, s));
    assert.match(s.stdout, /recovery stopping after WAL location \(LSN\) "/);
    assert.match(s.stdout, /server shutdown/);
  });
});
