import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { LocalStore } from './local/local-store.js';
import { MemoryStore } from './memory/memory-store.js';
import { openStore } from './open-store.js';
import { RetryingStore, type RetryEvent } from './decorators/retrying-store.js';
import { rejectsWithCode, testObject } from './testing/conformance.js';

const opening = (location: string) => Promise.resolve().then(() => openStore(location));

void describe('openStore', () => {
  void it('opens a plain or local: path as a LocalStore at the absolute path', () => {
    for (const [location, path] of [
      ['repo', resolve('repo')],
      ['./a/b', resolve('a/b')],
      ['/srv/backup', '/srv/backup'],
      ['local:/srv/backup', '/srv/backup'],
      ['local:rel:with:colons', resolve('rel:with:colons')],
      ['C:stays-a-path', resolve('C:stays-a-path')],
    ] as const) {
      const store = openStore(location);
      assert.ok(store instanceof LocalStore, location);
      assert.equal(store.location, path, location);
    }
  });

  void it('shares memory: contents for the life of the process, per name', async () => {
    const obj = testObject(1);
    const first = openStore('memory:');
    assert.ok(first instanceof MemoryStore);
    await first.put('snapshot', obj.name, obj.data);
    await first.close();
    assert.ok((await openStore('memory:').get('snapshot', obj.name)).equals(obj.data));
    assert.equal(await openStore('memory:other').stat('snapshot', obj.name), undefined);
    assert.equal(openStore('memory:other').location, 'memory:other');
  });

  void it('rejects planned backends as not available yet, with USAGE', async () => {
    for (const scheme of ['sftp', 'b2', 'SFTP']) {
      const err = await rejectsWithCode(opening(`${scheme}:bucket/path`), 'USAGE');
      assert.match(
        err.message,
        new RegExp(`storage backend "${scheme.toLowerCase()}" is not available yet`),
      );
    }
  });

  void it('opens s3: locations as a retried S3Store, path-style or AWS', () => {
    for (const [location, display] of [
      ['s3:http://127.0.0.1:9000/bucket', 's3:http://127.0.0.1:9000/bucket'],
      ['s3:https://s3.example.net/my.bucket/a/b/', 's3:https://s3.example.net/my.bucket/a/b'],
      ['S3:backups-1/host', 's3:backups-1/host'],
    ] as const) {
      const store = openStore(location);
      assert.ok(store instanceof RetryingStore, location);
      assert.equal(store.location, display);
      assert.ok(store.retention, 'object lock capability forwarded');
    }
  });

  void it('retries network stores as often as `retries` says, reporting each retry', async () => {
    // A loopback port nobody listens on: every request is refused at once.
    const port = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => done(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const events: RetryEvent[] = [];
    const store = openStore(`rest:http://127.0.0.1:${port}/`, {
      retries: 2,
      onRetry: (event) => events.push(event),
    });
    const err = await rejectsWithCode(
      store.stat('index', testObject(3).name),
      'STORAGE_UNAVAILABLE',
    );
    assert.match(err.message, /failed after 3 attempts/);
    assert.deepEqual(
      events.map((e) => [e.operation, e.attempt, e.maxAttempts]),
      [
        ['stat', 1, 3],
        ['stat', 2, 3],
      ],
    );
    events.length = 0;
    const once = openStore(`rest:http://127.0.0.1:${port}/`, {
      retries: 0,
      onRetry: (event) => events.push(event),
    });
    await rejectsWithCode(once.stat('index', testObject(3).name), 'STORAGE_UNAVAILABLE');
    assert.deepEqual(events, [], 'no retries, so nothing to report');
  });

  void it('rejects malformed s3: locations with USAGE', async () => {
    for (const bad of [
      's3:',
      's3:http://host:1/',
      's3:Bad_Bucket',
      's3:http://u:p@host/b1c',
      's3:abc/../x',
    ])
      await rejectsWithCode(opening(bad), 'USAGE');
  });

  void it('rejects unknown schemes, an empty location and an empty local: path', async () => {
    const err = await rejectsWithCode(opening('ftp:host/x'), 'USAGE');
    assert.match(err.message, /unknown storage backend "ftp"/);
    await rejectsWithCode(opening(''), 'USAGE');
    await rejectsWithCode(opening('  '), 'USAGE');
    await rejectsWithCode(opening('local:'), 'USAGE');
  });
});
