import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { PutObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  describeWithS3,
  testS3Store,
  uniqueBucket,
  type S3TestServer,
} from '../../testing/s3-server.js';
import { RetryingStore } from '../decorators/retrying-store.js';
import {
  collect,
  describeObjectStoreConformance,
  rejectsWithCode,
  testObject,
} from '../testing/conformance.js';
import { S3Store } from './s3-store.js';

const prefix = () => `t-${randomBytes(4).toString('hex')}`;

/** A raw SDK client on the test server: what an attacker holding the credentials could do. */
function rawClient(server: S3TestServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

describeWithS3('S3Store', (server) => {
  const plainBucket = uniqueBucket('conf');
  describeObjectStoreConformance('S3Store (plain bucket)', () =>
    Promise.resolve({
      store: testS3Store(server, plainBucket, prefix()),
      cleanup: () => Promise.resolve(),
      writesInto: true,
    }),
  );

  const lockedBucket = uniqueBucket('lock');
  describeObjectStoreConformance('S3Store (object-lock bucket: versioned reads)', async () => {
    const store = testS3Store(server, lockedBucket, prefix());
    await store.retention.prepare();
    return { store, cleanup: () => Promise.resolve(), writesInto: true };
  });

  void it('locks objects: retention is set, read, extended, and blocks deletion', async () => {
    const store = testS3Store(server, lockedBucket, prefix());
    await store.retention.prepare();
    const obj = testObject(1);
    const until = new Date(Date.now() + 4000);
    await store.put('pack', obj.name, obj.data, { retention: { mode: 'compliance', until } });
    const got = await store.retention.get('pack', obj.name);
    assert.equal(got?.mode, 'compliance');
    assert.equal(got?.until.getTime(), until.getTime());
    const later = new Date(until.getTime() + 2000);
    await store.retention.extend('pack', obj.name, { mode: 'compliance', until: later });
    // Extending to an earlier date is a no-op, not an error.
    await store.retention.extend('pack', obj.name, { mode: 'compliance', until });
    assert.equal((await store.retention.get('pack', obj.name))?.until.getTime(), later.getTime());
    const err = await rejectsWithCode(store.delete('pack', obj.name), 'STORAGE_FAILED');
    assert.match(err.message, /AccessDenied/);
    assert.ok((await store.get('pack', obj.name)).equals(obj.data));
    const plain = testObject(2);
    await store.put('index', plain.name, plain.data);
    assert.equal(await store.retention.get('index', plain.name), undefined);
    await rejectsWithCode(store.retention.get('index', testObject(3).name), 'NOT_FOUND');
    await store.close();
  });

  void it('reads the first version: overwrites, truncations and delete markers are ignored', async () => {
    const p = prefix();
    const store = testS3Store(server, lockedBucket, p);
    await store.retention.prepare();
    const obj = testObject(4, 5000);
    await store.put('pack', obj.name, obj.data, {
      retention: { mode: 'compliance', until: new Date(Date.now() + 3000) },
    });
    const raw = rawClient(server);
    const Key = `${p}/data/${obj.name.slice(0, 2)}/${obj.name}`;
    await raw.send(new PutObjectCommand({ Bucket: lockedBucket, Key, Body: Buffer.from('evil') }));
    await raw.send(new DeleteObjectCommand({ Bucket: lockedBucket, Key }));
    const fresh = testS3Store(server, lockedBucket, p);
    assert.ok((await fresh.get('pack', obj.name)).equals(obj.data));
    assert.deepEqual(await fresh.stat('pack', obj.name), { name: obj.name, size: 5000 });
    assert.deepEqual(await collect(fresh.list('pack')), [{ name: obj.name, size: 5000 }]);
    await rejectsWithCode(fresh.put('pack', obj.name, obj.data), 'OBJECT_EXISTS');
    raw.destroy();
    await store.close();
    await fresh.close();
  });

  void it('streams parts under their SHA-256 and stores them exactly; refuses a body that does not match it', async () => {
    const store = testS3Store(server, plainBucket, prefix());
    await store.create();
    const shared = new Uint8Array(new SharedArrayBuffer(70_000));
    shared.set(randomBytes(70_000));
    const parts = [randomBytes(3 * 1024 * 1024 + 17), Buffer.alloc(0), randomBytes(5), shared];
    const whole = Buffer.concat(parts);
    const name = createHash('sha256').update(whole).digest('hex');
    await store.put('pack', name, parts, { sha256: name });
    assert.ok((await store.get('pack', name)).equals(whole));
    // Again (a retry after a lost answer): the existing object is reported, not a broken upload.
    await rejectsWithCode(store.put('pack', name, parts, { sha256: name }), 'OBJECT_EXISTS');
    // The service checks the body against the hash sent (not one the client computed itself):
    // a wrong one is refused and nothing is stored.
    const other = testObject(31, 4096);
    const wrong = createHash('sha256').update('something else').digest('hex');
    await rejectsWithCode(
      store.put('pack', other.name, [other.data.subarray(0, 100), other.data.subarray(100)], {
        sha256: wrong,
      }),
      'STORAGE_FAILED',
    );
    assert.equal(await store.stat('pack', other.name), undefined);
    await store.close();
  });

  void it('refuses an existing bucket without object lock for retention', async () => {
    const store = testS3Store(server, plainBucket, prefix());
    await store.create();
    const err = await rejectsWithCode(store.retention.prepare(), 'STORAGE_FAILED');
    assert.match(err.message, /does not have object lock enabled/);
    await store.close();
  });

  void it('reports a missing bucket as no objects, and wrong credentials as STORAGE_FAILED', async () => {
    const missing = testS3Store(server, uniqueBucket('none'));
    assert.equal(await missing.stat('config', 'config'), undefined);
    await missing.close();
    const wrong = new S3Store({
      location: { endpoint: server.endpoint, bucket: plainBucket, prefix: '', display: 'x' },
      credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' },
    });
    const err = await rejectsWithCode(wrong.get('config', 'config'), 'STORAGE_FAILED');
    assert.match(err.message, /InvalidAccessKeyId|AccessDenied|SignatureDoesNotMatch|403/);
    assert.doesNotMatch(err.message, /wrong/);
    await wrong.close();
  });

  void it('reports an unreachable service as STORAGE_UNAVAILABLE, after retries', async () => {
    const store = new S3Store({
      location: { endpoint: 'http://127.0.0.1:1', bucket: 'b12', prefix: '', display: 'down' },
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await rejectsWithCode(store.stat('config', 'config'), 'STORAGE_UNAVAILABLE');
    let retries = 0;
    const retried = new RetryingStore(store, {
      maxAttempts: 3,
      sleep: () => Promise.resolve(),
      onRetry: () => retries++,
    });
    const err = await rejectsWithCode(retried.stat('config', 'config'), 'STORAGE_UNAVAILABLE');
    assert.match(err.message, /after 3 attempts/);
    assert.equal(retries, 2);
    await store.close();
  });
});
