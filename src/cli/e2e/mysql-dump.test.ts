/**
 * MariaDB logical backups against a real server: `mysql dump` (routines, triggers, events
 * included), `mysql restore-dump` under a new database name checked with row counts and
 * CHECKSUM TABLE, and a failing dump that must leave no snapshot (exit 21).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult, type SnapshotJson } from '../../testing/cli-harness.js';
import { MARIADBD, MariaDbServer } from '../../testing/mariadb.js';
import { requireServer, skipUnless } from '../../testing/postgres.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

async function fingerprint(server: MariaDbServer, db: string): Promise<string> {
  const counts = await server.rootSql(
    'select (select count(*) from items), (select count(*) from audit)',
    db,
  );
  const sums = (await server.rootSql('checksum table items, audit', db))
    .split('\n')
    .map((l) => l.split('\t')[1])
    .join(',');
  return `${counts} ${sums}`;
}

void describe(
  'mysql dump and mysql restore-dump',
  { skip: skipUnless(MARIADBD !== undefined, 'MariaDB') },
  () => {
    let tmp: string;
    let server: MariaDbServer;
    let repo: CliRepo;
    let conn: string[];
    before(async () => {
      requireServer(MARIADBD !== undefined, 'MariaDB');
      tmp = await makeTempDir('mysql');
      server = await MariaDbServer.start(tmp);
      conn = server.connectionArgs();
      repo = new CliRepo(join(tmp, 'repo'));
      await repo.init();
      await server.rootSql('create database shop');
      await server.rootSql(
        `create table items (id int primary key auto_increment, name varchar(100), price decimal(10,2), blob_col varbinary(64)) engine=InnoDB;
       create table audit (id int primary key auto_increment, item int, at timestamp default current_timestamp) engine=InnoDB;
       insert into items (name, price, blob_col) select concat('item ', seq), seq * 0.5, unhex(md5(seq)) from seq_1_to_20000;
       create trigger items_audit after insert on items for each row insert into audit (item) values (new.id);
       create procedure item_count(out n int) select count(*) into n from items;
       create event nightly on schedule every 1 day disable do delete from audit where at < now() - interval 1 year;
       insert into items (name, price) values ('with ''quote'' and \`tick\`', 1.00);`,
        'shop',
      );
    });
    after(async () => {
      await server?.stop();
      await removeTempDir(tmp);
    });

    void it('round-trips a database under a new name: rows, checksums, routines, triggers, events', async () => {
      const out = JSON.parse(
        (await repo.ok(['mysql', 'dump', '--json', ...conn, 'shop'])).stdout,
      ) as {
        databases: string[];
        meta: Record<string, string>;
      };
      assert.deepEqual(out.databases, ['shop']);
      assert.match(out.meta.server_version ?? '', /MariaDB/);
      const [snap] = (await repo.snapshots('--tag', 'mysql-dump')) as (SnapshotJson & {
        meta?: Record<string, string>;
      })[];
      assert.deepEqual(snap?.paths, ['/mysql_dump/shop.sql']);
      const raw = (await repo.ok(['dump', 'latest', '/mysql_dump/shop.sql'])).stdout;
      assert.match(raw, /^CREATE DATABASE .*`shop`/m, 'the dump stands alone');

      await repo.ok(['mysql', 'restore-dump', ...conn, 'latest', '--database', 'shop_restored']);
      assert.equal(await fingerprint(server, 'shop_restored'), await fingerprint(server, 'shop'));
      assert.equal(
        await server.rootSql(
          "select count(*) from information_schema.routines where routine_schema = 'shop_restored'",
        ),
        '1',
      );
      assert.equal(
        await server.rootSql(
          "select count(*) from information_schema.triggers where trigger_schema = 'shop_restored'",
        ),
        '1',
      );
      assert.equal(
        await server.rootSql(
          "select count(*) from information_schema.events where event_schema = 'shop_restored'",
        ),
        '1',
      );
      // The trigger works in the copy, and the original is untouched (no USE of the old name).
      const audited = Number(await server.rootSql('select count(*) from audit', 'shop'));
      await server.rootSql("insert into items (name) values ('after')", 'shop_restored');
      assert.equal(
        await server.rootSql('select count(*) from audit', 'shop_restored'),
        String(audited + 1),
      );
      assert.equal(await server.rootSql('select count(*) from audit', 'shop'), String(audited));

      const again = ['mysql', 'restore-dump', ...conn, 'latest', '--database', 'shop_restored'];
      const r = await repo.run(again);
      assert.notEqual(r.code, 0, describeResult(again, r));
    });

    void it('a failing dump writes no snapshot and exits 21', async () => {
      const before = (await repo.snapshots()).length;
      const argv = ['mysql', 'dump', ...conn, 'no_such_db'];
      const r = await repo.run(argv);
      assert.equal(r.code, 21, describeResult(argv, r));
      const wrongPassword = [
        'mysql',
        'dump',
        '-h',
        '127.0.0.1',
        '-P',
        String(server.port),
        '-u',
        server.user,
        'shop',
      ];
      const w = await repo.run(wrongPassword);
      assert.equal(w.code, 21, describeResult(wrongPassword, w));
      assert.equal((await repo.snapshots()).length, before);
    });
  },
);
