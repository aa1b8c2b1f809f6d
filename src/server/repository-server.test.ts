import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError } from '../core/index.js';
import { RestStore } from '../storage/index.js';
import { startRestServer, type RestServerFixture } from '../testing/rest-server.js';
import { UploadBudget } from './object-body.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function send(
  base: string,
  method: string,
  path: string,
  options: { body?: Buffer; headers?: Record<string, string>; user?: string } = {},
): Promise<Answer> {
  const user = options.user ?? 'alice:alice-pw';
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    // The path goes out as written (no URL normalisation), as a hostile client would send it.
    const req = request({
      hostname,
      port,
      path,
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(user).toString('base64')}`,
        ...(options.body && { 'Content-Length': options.body.length }),
        ...options.headers,
      },
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

const object = (text: string) => {
  const body = Buffer.from(text);
  return { body, name: createHash('sha256').update(body).digest('hex') };
};

void describe('RepositoryServer over HTTP', () => {
  let f: RestServerFixture;
  before(async () => {
    f = await startRestServer({
      appendOnly: true,
      privateRepos: true,
      maxObjectBytes: 1000,
      users: { alice: 'alice-pw', bob: 'bob-pw' },
    });
    assert.equal((await send(f.url, 'POST', '/alice/')).status, 204);
  });
  after(() => f.stop());

  void it('answers 401 with a Basic challenge without or with wrong credentials', async () => {
    for (const user of ['', 'alice:wrong', 'nobody:alice-pw']) {
      const a = await send(f.url, 'GET', '/alice/pack/', { user });
      assert.equal(a.status, 401, user);
      assert.match(String(a.headers['www-authenticate']), /^Basic realm="holdfast"/);
    }
  });

  void it('stores, stats, ranges and lists objects', async () => {
    const o = object('0123456789abcdef');
    assert.equal((await send(f.url, 'PUT', `/alice/pack/${o.name}`, { body: o.body })).status, 201);
    const head = await send(f.url, 'HEAD', `/alice/pack/${o.name}`);
    assert.deepEqual([head.status, head.headers['content-length']], [200, '16']);
    const part = await send(f.url, 'GET', `/alice/pack/${o.name}`, {
      headers: { Range: 'bytes=4-7' },
    });
    assert.deepEqual([part.status, part.body.toString()], [206, '4567']);
    assert.equal(part.headers['content-range'], 'bytes 4-7/16');
    const past = await send(f.url, 'GET', `/alice/pack/${o.name}`, {
      headers: { Range: 'bytes=10-16' },
    });
    assert.equal(past.status, 416);
    assert.equal((JSON.parse(past.body.toString()) as { code: string }).code, 'INTEGRITY');
    const list = await send(f.url, 'GET', '/alice/pack/');
    assert.deepEqual(
      list.body
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
      [
        { name: o.name, size: 16 },
        { end: true, count: 1 },
      ],
    );
    const empty = await send(f.url, 'GET', '/alice/index/');
    assert.equal(empty.body.toString(), '{"end":true,"count":0}\n');
  });

  void it('append-only: refuses deletions except of locks, and every overwrite', async () => {
    const o = object('a lock');
    const p = object('a pack');
    for (const [kind, x] of [
      ['lock', o],
      ['pack', p],
    ] as const)
      assert.equal(
        (await send(f.url, 'PUT', `/alice/${kind}/${x.name}`, { body: x.body })).status,
        201,
      );
    assert.equal((await send(f.url, 'PUT', `/alice/pack/${p.name}`, { body: p.body })).status, 409);
    const refused = await send(f.url, 'DELETE', `/alice/pack/${p.name}`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.toString(), /append-only/);
    assert.equal((await send(f.url, 'DELETE', `/alice/lock/${o.name}`)).status, 204);
    assert.equal((await send(f.url, 'HEAD', `/alice/pack/${p.name}`)).status, 200);
  });

  void it('private repositories: a user only reaches prefixes under their own name', async () => {
    assert.equal((await send(f.url, 'GET', '/alice/pack/', { user: 'bob:bob-pw' })).status, 403);
    assert.equal((await send(f.url, 'GET', '/pack/', { user: 'bob:bob-pw' })).status, 403);
    const store = new RestStore(`${f.url.replace('://', '://bob:bob-pw@')}alice/`);
    await assert.rejects(store.stat('config', 'config'), (e) =>
      isHoldfastError(e, 'STORAGE_FAILED'),
    );
    await store.close();
  });

  void it('rejects bad methods, oversized and unnamed bodies, and bad ranges', async () => {
    const m = await send(f.url, 'PATCH', '/alice/config');
    assert.deepEqual([m.status, m.headers.allow], [405, 'GET, HEAD, PUT, DELETE']);
    const big = object('x'.repeat(1001));
    assert.equal(
      (await send(f.url, 'PUT', `/alice/pack/${big.name}`, { body: big.body })).status,
      400,
    );
    const wrong = object('content');
    const other = object('other');
    assert.equal(
      (await send(f.url, 'PUT', `/alice/pack/${other.name}`, { body: wrong.body })).status,
      400,
    );
    const range = await send(f.url, 'GET', `/alice/pack/${other.name}`, {
      headers: { Range: 'bytes=-5' },
    });
    assert.equal(range.status, 400);
    assert.equal((await send(f.url, 'GET', '/alice/../etc/passwd')).status, 400);
  });
});

void describe('UploadBudget', () => {
  void it('reserves until released, then refuses transiently', () => {
    const budget = new UploadBudget(100);
    const release = budget.reserve(60);
    assert.throws(
      () => budget.reserve(50),
      (e) => isHoldfastError(e, 'STORAGE_UNAVAILABLE'),
    );
    release();
    release();
    budget.reserve(100)();
  });
});
