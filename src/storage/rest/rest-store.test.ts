import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRestServer, type RestServerFixture } from '../../testing/rest-server.js';
import { openStore } from '../open-store.js';
import { RetryingStore } from '../decorators/retrying-store.js';
import {
  describeObjectStoreConformance,
  rejectsWithCode,
  testObject,
} from '../testing/conformance.js';
import { RestStore } from './rest-store.js';

let fixture: RestServerFixture;
// The conformance suite stores arbitrary bytes under arbitrary names, which a holdfast server
// refuses unless told not to check that names are content hashes.
let unchecked: RestServerFixture;
let stores = 0;
before(async () => {
  fixture = await startRestServer();
  unchecked = await startRestServer({ verifyNames: false });
});
after(async () => {
  await fixture.stop();
  await unchecked.stop();
});

// Every test gets its own repository: a fresh prefix on the one server.
describeObjectStoreConformance('RestStore', () => {
  const store = new RestStore(unchecked.location(`conformance-${++stores}`).slice('rest:'.length));
  return Promise.resolve({ store, cleanup: () => Promise.resolve(), writesInto: true });
});

void describe('RestStore', () => {
  void it('is what openStore makes of rest: locations, retried, without the password', async () => {
    const store = openStore(fixture.location('opened'));
    assert.ok(store instanceof RetryingStore);
    assert.doesNotMatch(store.location, /client-password/);
    assert.match(store.location, /^rest:http:\/\/client@127\.0\.0\.1:\d+\/opened\/$/);
    await store.create();
    const obj = testObject(1);
    await store.put('snapshot', obj.name, obj.data);
    assert.ok((await store.get('snapshot', obj.name)).equals(obj.data));
    await store.close();
  });

  void it('fails wrong credentials at once with STORAGE_FAILED and no password in the message', async () => {
    const url = fixture
      .location('denied')
      .slice('rest:'.length)
      .replace('client-password', 'wrong-secret');
    const store = new RestStore(url);
    const err = await rejectsWithCode(store.stat('snapshot', testObject(2).name), 'STORAGE_FAILED');
    assert.match(err.message, /credentials/);
    assert.doesNotMatch(err.message + String((err as { hint?: string }).hint), /wrong-secret/);
    await store.close();
  });

  void it('takes credentials from options when the URL has none', async () => {
    const bare = fixture.url;
    const store = new RestStore(`${bare}creds/`, {
      username: 'client',
      password: 'client-password',
    });
    assert.equal(store.location, `rest:${bare.replace('://', '://client@')}creds/`);
    await store.create();
    await store.close();
    const anonymous = new RestStore(`${bare}creds/`);
    await rejectsWithCode(anonymous.list('pack')[Symbol.asyncIterator]().next(), 'STORAGE_FAILED');
    await anonymous.close();
  });

  void it('reports a server that is not there as STORAGE_UNAVAILABLE (transient)', async () => {
    const store = new RestStore('http://127.0.0.1:9/nothing/');
    const err = await rejectsWithCode(
      store.stat('pack', testObject(3).name),
      'STORAGE_UNAVAILABLE',
    );
    assert.match(err.message, /ECONNREFUSED/);
    await store.close();
  });

  void it('refuses content that does not match its name (the server checks every upload)', async () => {
    const store = new RestStore(fixture.location('forged').slice('rest:'.length));
    await store.create();
    const obj = testObject(4);
    const err = await rejectsWithCode(
      store.put('pack', obj.name, testObject(5).data),
      'STORAGE_FAILED',
    );
    assert.match(err.message, /does not match its name/);
    assert.equal(await store.stat('pack', obj.name), undefined);
    await store.close();
  });
});
