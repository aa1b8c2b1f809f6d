/**
 * PostgreSQL point-in-time recovery against real servers. A cluster archives through
 * `holdfast pg wal-push` (run by the server as the postgres user) under pgbench load; marker rows
 * are committed before and after a recorded instant. Then: `pg restore --target latest` has every
 * committed row; `--target-time` has exactly the rows before the instant and the server log says
 * recovery stopped there; the promoted restore (timeline 2) keeps archiving, and a second
 * point-in-time restore along timeline 2 — from the original base backup on timeline 1 — works.
 */
import assert from 'node:assert/strict';
import { chmod, chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binaryUsableBy, runBinary } from '../../testing/binary.js';
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The server's clock now, as a recovery_target_time with an explicit zone. */
async function serverNow(server: PgServer): Promise<string> {
  return server.sql(
    `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'`,
  );
}

async function markers(server: PgServer): Promise<number[]> {
  const text = await server.sql(
    "select coalesce(string_agg(id::text, ',' order by id), '') from markers",
  );
  return text ? text.split(',').map(Number) : [];
}

async function addMarkers(server: PgServer, ids: number[]): Promise<void> {
  for (const id of ids) await server.sql(`insert into markers (id) values (${id})`);
}

void describe(
  'pg point-in-time recovery',
  { skip: skipUnless(PG_BINDIR !== undefined, 'PostgreSQL') },
  () => {
    let tmp: string;
    let primary: PgServer;
    let repo: CliRepo;
    let holdfast: string;
    let instant: string;
    const started: PgServer[] = [];

    /** holdfast as the postgres user, who owns the repository. */
    async function asPostgres(argv: string[]): Promise<string> {
      const r = await runBinary(argv, { user: 'postgres', binary: holdfast, env: repo.env() });
      assert.equal(r.code, 0, `holdfast ${argv.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    }

    /** `pg restore --start` as root, which hands the directory to postgres. */
    async function restore(
      name: string,
      args: string[],
    ): Promise<{ server: PgServer; stdout: string }> {
      const dir = join(tmp, name);
      const port = await freePort();
      const argv = [
        'pg',
        'restore',
        '--target-dir',
        dir,
        '--start',
        '--port',
        String(port),
        '--holdfast-command',
        `${process.execPath} ${holdfast}`,
        ...args,
      ];
      const r = await repo.run(argv);
      const server = PgServer.attach(dir, dir, port, join(dir, 'holdfast-restore.log'));
      started.push(server);
      assert.equal(r.code, 0, describeResult(argv, r));
      return { server, stdout: r.stdout };
    }

    before(async () => {
      requireServer(PG_BINDIR !== undefined, 'PostgreSQL');
      tmp = await makeTempDir('pgpitr');
      await chmod(tmp, 0o755);
      holdfast = await binaryUsableBy('postgres', tmp);
      const repoParent = await postgresDir(join(tmp, 'r'));
      const password = join(tmp, 'password');
      await writeFile(password, 'pitr password\n', { mode: 0o600 });
      const { uid, gid } = await postgresIds();
      await chown(password, uid, gid);
      repo = new CliRepo(join(repoParent, 'repo'));
      // The repository belongs to postgres (archive_command runs as postgres); root only reads it.
      const env = { HOLDFAST_REPOSITORY: repo.path, HOLDFAST_PASSWORD_FILE: password };
      repo.env = (extra = {}) => ({ ...env, ...extra });
      await asPostgres(['init']);
      const archive = `${process.execPath} ${holdfast} -r ${repo.path} --password-file ${password} pg wal-push %p`;
      primary = await PgServer.start({
        dir: tmp,
        settings: { archive_mode: 'on', archive_command: `'${archive}'`, wal_level: 'replica' },
      });
      started.push(primary);
      await primary.pgbench(['-i', '-s', '2', '-q']);
      await primary.sql(
        'create table markers (id int primary key, at timestamptz default clock_timestamp())',
      );
      await asPostgres(['pg', 'basebackup', ...primary.connectionArgs(), '--checkpoint', 'fast']);
      await primary.pgbench(['-c', '2', '-T', '2', '-n']);
      await addMarkers(primary, [1, 2, 3, 4, 5]);
      await sleep(300);
      instant = await serverNow(primary);
      await sleep(300);
      await addMarkers(primary, [6, 7, 8, 9, 10]);
      await primary.pgbench(['-c', '2', '-t', '200', '-n']);
      await primary.switchAndWaitArchived();
    });

    after(async () => {
      for (const s of started.reverse()) await s.stop('immediate');
      await removeTempDir(tmp);
    });

    void it('records the cluster facts with the base backup', async () => {
      const [base] = (await repo.snapshots('--tag', 'pg-base')) as unknown as {
        paths: string[];
        meta: Record<string, string>;
      }[];
      assert.deepEqual(base?.paths, ['/pg_base/base.tar']);
      const sysid = await primary.sql('select system_identifier from pg_control_system()');
      assert.equal(base?.meta.system_identifier, sysid);
      assert.equal(base?.meta.timeline, '1');
      assert.equal(
        base?.meta.pg_version,
        (await primary.sql('show server_version_num')).slice(0, 2),
      );
      assert.match(base?.meta.start_lsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
      const wal = (await repo.snapshots('--tag', 'pg-wal')) as unknown as {
        paths: string[];
        meta: Record<string, string>;
      }[];
      assert.ok(wal.length >= 3, `${wal.length} WAL snapshots`);
      assert.ok(
        wal.every(
          (w) => w.meta.system_identifier === sysid && w.paths[0] === `/pg_wal/${w.meta.wal_name}`,
        ),
      );
    });

    void it('--target latest recovers every committed row', async () => {
      const expected = await primary.sql('select sum(abalance) from pgbench_accounts');
      const { server, stdout } = await restore('latest', ['--target', 'latest', '--no-archive']);
      assert.deepEqual(await markers(server), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(await server.sql('select sum(abalance) from pgbench_accounts'), expected);
      assert.match(stdout, /server promoted/);
      await server.stop();
    });

    let tl2: PgServer;
    void it('--target-time recovers exactly the rows committed before the instant, and says so', async () => {
      const { server, stdout } = await restore('pitr1', ['--target-time', instant]);
      assert.deepEqual(await markers(server), [1, 2, 3, 4, 5]);
      assert.match(
        stdout,
        /recovered to: recovery stopping before commit of transaction \d+, time /,
      );
      assert.match(stdout, /server promoted, timeline 2/);
      assert.equal(await server.sql('select pg_is_in_recovery()'), 'f');
      tl2 = server;
    });

    void it('the promoted restore archives timeline 2, and a second PITR along it works', async () => {
      await addMarkers(tl2, [100, 101, 102]);
      await sleep(300);
      const instant2 = await serverNow(tl2);
      await sleep(300);
      await addMarkers(tl2, [103, 104]);
      const wal = await tl2.switchAndWaitArchived();
      assert.match(wal, /^00000002/);
      const history = await repo
        .ok(['dump', 'latest', '/pg_wal/00000002.history'])
        .catch(() => undefined);
      void history;
      const snaps = (await repo.snapshots('--tag', 'pg-wal')) as unknown as {
        meta: Record<string, string>;
      }[];
      assert.ok(
        snaps.some((s) => s.meta.wal_name === '00000002.history'),
        'history file archived',
      );

      const { server, stdout } = await restore('pitr2', [
        '--target-time',
        instant2,
        '--no-archive',
      ]);
      assert.deepEqual(await markers(server), [1, 2, 3, 4, 5, 100, 101, 102]);
      assert.match(stdout, /recovery stopping before commit/);
      assert.match(stdout, /timeline 3/);
      await server.stop();

      const check = await repo.run(['pg', 'check']);
      assert.equal(check.code, 0, describeResult(['pg', 'check'], check));
      assert.match(check.stdout, /timelines 1, 2/);
      assert.match(check.stdout, /timeline 2: continuous/);
    });
  },
);
