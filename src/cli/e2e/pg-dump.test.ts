/**
 * PostgreSQL logical backups against a real server: `pg dump` of one database and of all (with
 * globals), `pg restore-dump` into a new database checked with row counts and table checksums,
 * and a failing pg_dump that must leave no snapshot (exit 21).
 */
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult, type SnapshotJson } from '../../testing/cli-harness.js';
import { PG_BINDIR, PgServer, requireServer, skipUnless } from '../../testing/postgres.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

const TABLES = ['customers', 'orders'];

/** Row count and an order-independent checksum of each table. */
async function fingerprint(server: PgServer, db: string): Promise<string[]> {
  return Promise.all(
    TABLES.map((t) =>
      server.sql(
        `select count(*) || ':' || md5(string_agg(x::text, ',' order by x::text)) from ${t} x`,
        db,
      ),
    ),
  );
}

void describe(
  'pg dump and pg restore-dump',
  { skip: skipUnless(PG_BINDIR !== undefined, 'PostgreSQL') },
  () => {
    let tmp: string;
    let server: PgServer;
    let repo: CliRepo;
    let conn: string[];
    before(async () => {
      requireServer(PG_BINDIR !== undefined, 'PostgreSQL');
      tmp = await makeTempDir('pgdump');
      await chmod(tmp, 0o755);
      server = await PgServer.start({ dir: tmp });
      conn = server.connectionArgs();
      repo = new CliRepo(join(tmp, 'repo'));
      await repo.init();
      await server.sql('create database shop');
      await server.sql(
        `create table customers (id int primary key, name text, joined timestamptz);
       insert into customers select g, 'customer ' || g, now() - g * interval '1 hour' from generate_series(1, 5000) g;
       create table orders (id bigserial primary key, customer int references customers, amount numeric(10,2), note bytea);
       insert into orders (customer, amount, note) select 1 + g % 5000, g * 1.5, decode(md5(g::text), 'hex') from generate_series(1, 20000) g;
       create function order_total(c int) returns numeric language sql as 'select sum(amount) from orders where customer = c';
       create view big_orders as select * from orders where amount > 1000;`,
        'shop',
      );
    });
    after(async () => {
      await server?.stop('immediate');
      await removeTempDir(tmp);
    });

    void it('round-trips one database: same rows, same checksums, functions and views', async () => {
      const dump = await repo.ok(['pg', 'dump', '--json', ...conn, 'shop']);
      const summary = JSON.parse(dump.stdout) as { snapshot_id: string; databases: string[] };
      assert.deepEqual(summary.databases, ['shop']);
      const [snap] = (await repo.snapshots('--tag', 'pg-dump')) as (SnapshotJson & {
        meta?: Record<string, string>;
      })[];
      assert.deepEqual(snap?.paths, ['/pg_dump/shop.dump']);
      assert.equal(snap?.meta?.kind, 'pg-dump');
      assert.match(snap?.meta?.pg_dump_version ?? '', /pg_dump \(PostgreSQL\) \d+/);
      // The stored file is pg_dump's custom format.
      const raw = await repo.ok(['dump', 'latest', '/pg_dump/shop.dump']);
      assert.equal(raw.stdoutBytes.subarray(0, 5).toString(), 'PGDMP');

      await repo.ok(['pg', 'restore-dump', ...conn, 'latest', '--dbname', 'shop_copy']);
      assert.deepEqual(await fingerprint(server, 'shop_copy'), await fingerprint(server, 'shop'));
      assert.equal(
        await server.sql(
          'select order_total(42) = (select sum(amount) from orders where customer = 42)',
          'shop_copy',
        ),
        't',
      );
      assert.equal(
        await server.sql('select count(*) from big_orders', 'shop_copy'),
        await server.sql('select count(*) from big_orders', 'shop'),
      );

      // The new database must not exist yet: restoring over one is refused.
      const again = ['pg', 'restore-dump', ...conn, 'latest', '--dbname', 'shop_copy'];
      const r = await repo.run(again);
      assert.notEqual(r.code, 0, describeResult(again, r));
      assert.match(r.stderr, /already exists/);
    });

    void it('--all dumps every database and the globals; restore-dump picks one with --source-db', async () => {
      await server.sql("create role reporting login password 'x'");
      await server.sql('create database crm owner reporting');
      await server.sql(
        'create table customers (id int primary key); create table orders (id int); insert into customers select generate_series(1, 77); insert into orders values (1), (2);',
        'crm',
      );
      const argv = ['pg', 'dump', '--json', ...conn, '--all'];
      const out = JSON.parse((await repo.ok(argv)).stdout) as {
        databases: string[];
        snapshot_id: string;
      };
      assert.ok(
        out.databases.includes('shop') &&
          out.databases.includes('crm') &&
          out.databases.includes('postgres'),
        out.databases.join(),
      );
      const globals = await repo.ok(['dump', out.snapshot_id, '/pg_dump/globals.sql']);
      assert.match(globals.stdout, /CREATE ROLE reporting/);
      const several = ['pg', 'restore-dump', ...conn, out.snapshot_id, '--dbname', 'crm_copy'];
      const r = await repo.run(several);
      assert.equal(r.code, 2, describeResult(several, r));
      await repo.ok([...several, '--source-db', 'crm']);
      assert.deepEqual(await fingerprint(server, 'crm_copy'), await fingerprint(server, 'crm'));
      assert.equal(
        await server.sql(
          "select pg_get_userbyid(datdba) from pg_database where datname = 'crm_copy'",
        ),
        'postgres',
      );
      assert.equal(
        await server.sql(
          'select tableowner from pg_tables where tablename = $$customers$$',
          'crm_copy',
        ),
        'postgres',
      );
    });

    void it('a failing pg_dump writes no snapshot and exits 21', async () => {
      const before = (await repo.snapshots()).length;
      const argv = ['pg', 'dump', ...conn, 'no_such_database'];
      const r = await repo.run(argv);
      assert.equal(r.code, 21, describeResult(argv, r));
      assert.match(r.stderr, /pg_dump failed/);
      assert.equal((await repo.snapshots()).length, before);
      await repo.ok(['check']);
    });
  },
);
