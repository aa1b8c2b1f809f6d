/**
 * End to end: object lock on Ceph RGW. A repository created with `init --object-lock-*` locks
 * every object but lock files. Then a client holding the backup credentials (S3 keys and the
 * repository password) attacks it — permanent deletes of every version, plain deletes (delete
 * markers), overwrites, truncations, a forged index, and holdfast's own forget, prune and key
 * remove — and every snapshot still restores byte for byte. A second part shows deletion once
 * the retention has ended. Retention periods are seconds long (RGW accepts any future date).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  type ObjectVersion,
} from '@aws-sdk/client-s3';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import {
  describeWithS3,
  s3Env,
  s3Location,
  testS3Store,
  uniqueBucket,
  type S3TestServer,
} from '../../testing/s3-server.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { rsyncDifferences } from '../../testing/tree-compare.js';

function attacker(server: S3TestServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

async function allVersions(s3: S3Client, bucket: string, prefix: string): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
    );
    out.push(...(page.Versions ?? []));
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return out;
}

async function makeTree(root: string, seed: string): Promise<void> {
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(root, 'shared.bin'), seededBytes(600_000, 'shared'));
  await writeFile(join(root, 'own.bin'), seededBytes(300_000, seed));
  await writeFile(join(root, 'sub/note.txt'), `${seed}\n`);
}

describeWithS3('object lock against a client with backup credentials', (server) => {
  const env = s3Env(server);
  const bucket = uniqueBucket('worm');
  const prefix = 'repo';
  let tmp: string;
  let repo: CliRepo;
  const sources: Record<string, string> = {};

  before(async () => {
    tmp = await makeTempDir('s3-lock');
    for (const name of ['monday', 'tuesday']) {
      sources[name] = join(tmp, name);
      await makeTree(sources[name], name);
    }
    repo = new CliRepo(s3Location(server, bucket, prefix));
  });
  after(() => removeTempDir(tmp));

  void it('survives deletes, overwrites, truncation and a forged index', async () => {
    await repo.ok(
      [
        'init',
        '--object-lock-period',
        '5m',
        '--object-lock-mode',
        'compliance',
        '--pack-size',
        '4MiB',
      ],
      { env },
    );
    for (const name of ['monday', 'tuesday']) await repo.backup([sources[name]!], { env });
    const snapshots = await repo.snapshots();
    assert.equal(snapshots.length, 2);

    // Every object but lock files carries a compliance retention.
    const store = testS3Store(server, bucket, prefix);
    for (const kind of ['config', 'key', 'pack', 'index', 'snapshot'] as const) {
      for await (const o of store.list(kind)) {
        const r = await store.retention.get(kind, o.name);
        assert.equal(r?.mode, 'compliance', `${kind} ${o.name}`);
        assert.ok(r.until.getTime() > Date.now() + 4 * 60_000, `${kind} locked for the period`);
      }
    }
    await store.close();

    const s3 = attacker(server);
    const versions = await allVersions(s3, bucket, `${prefix}/`);
    // 1. Permanent deletion of every version: refused by the lock.
    for (const v of versions) {
      await assert.rejects(
        s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId })),
        (e: Error) => e.name === 'AccessDenied',
        `delete ${v.Key}`,
      );
    }
    // 2. Plain deletes (delete markers), 3. overwrites and 4. truncations of the visible keys.
    for (const [i, v] of versions.entries()) {
      const key = v.Key!;
      if (i % 3 === 0) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      else if (i % 3 === 1)
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(64) }));
      else
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: Buffer.alloc((v.Size ?? 2) >> 1),
          }),
        );
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/config`, Body: 'x' }));
    // 5. A forged index file under a valid name, locked so nobody can delete it.
    const forged = randomBytes(300);
    const forgedName = createHash('sha256').update(forged).digest('hex');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}/index/${forgedName}`,
        Body: forged,
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 5 * 60_000),
      }),
    );
    s3.destroy();

    // 6. holdfast's own deleting commands, run with the same credentials.
    const forget = await repo.run(['forget', '--group-by', 'host', '--keep-last', '1', '--prune'], {
      env,
    });
    assert.match(
      forget.stdout + forget.stderr,
      /retained (by object lock )?until/,
      describeResult(['forget'], forget),
    );
    await repo.ok(['key', 'add', '--new-password-file', await passwordFile(tmp, 'second')], {
      env,
    });
    const keys = JSON.parse((await repo.ok(['key', 'list', '--json'], { env })).stdout) as {
      id: string;
      current: boolean;
    }[];
    const other = keys.find((k) => !k.current)!;
    const remove = await repo.run(['key', 'remove', other.id], { env });
    assert.notEqual(remove.code, 0);
    assert.match(remove.stderr, /retained by object lock until \d{4}-/);

    // The forged index blocks reading the index until "repair index" supersedes it.
    await repo.ok(['repair', 'index'], { env });
    const check = await repo.ok(['check', '--read-data'], { env });
    assert.match(check.stdout + check.stderr, /no errors/i);
    const after = await repo.snapshots();
    assert.deepEqual(
      after.map((s) => s.id).sort(),
      snapshots.map((s) => s.id).sort(),
      'every snapshot is still there',
    );
    for (const s of snapshots) {
      const target = join(tmp, `restore-${s.short_id}`);
      await repo.ok(['restore', s.id, '--target', target], { env });
      const source = s.paths[0]!;
      assert.equal(await rsyncDifferences(source, join(target, source)), '', s.id);
    }
  });

  void it('deletes what it may once the retention has ended', async () => {
    const short = new CliRepo(s3Location(server, uniqueBucket('expiry')));
    await short.ok(['init', '--object-lock-period', '3s', '--object-lock-mode', 'governance'], {
      env,
    });
    await short.backup([sources.monday!], { env });
    await short.backup([sources.tuesday!], { env });
    const kept = await short.run(['forget', '--group-by', 'host', '--keep-last', '1'], { env });
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout + kept.stderr, /retained/);
    assert.equal((await short.snapshots()).length, 2);
    await delay(5000);
    const removed = await short.ok(
      ['forget', '--group-by', 'host', '--keep-last', '1', '--prune'],
      { env },
    );
    assert.match(removed.stdout, /removed 1 snapshots/);
    assert.equal((await short.snapshots()).length, 1);
    await short.ok(['check', '--read-data'], { env });
  });
});

async function passwordFile(dir: string, password: string): Promise<string> {
  const path = join(dir, `pw-${password}`);
  await writeFile(path, password);
  return path;
}
