/**
 * BlobIdPipeline (native/blob_id_pipeline.c): ids computed on a helper thread must be exactly
 * blobIdOf's, in the order started, whatever the sizes, keys and types in flight together.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BLOB_ID_PIPELINE_DEPTH, BlobIdPipeline } from './blob-id-pipeline.js';
import { blobIdOf } from './keyed-hash.js';
import { blobCrypto } from './native-crypto.js';

function referenceId(key: Buffer, type: number, data: Uint8Array): string {
  return createHmac('sha256', key)
    .update(Buffer.from([type]))
    .update(data)
    .digest('hex');
}

void test('ids in start order, equal to blobIdOf, with up to the depth outstanding', () => {
  const key = randomBytes(32);
  const ids = new BlobIdPipeline(key);
  // Views at odd offsets of larger buffers: the addon must honour byteOffset.
  const chunks = [0, 1, 4096, 3 << 20, 65_537, 31, 1 << 20, 7].map((n) =>
    randomBytes(n + 9).subarray(4, 4 + n),
  );
  const types = ['data', 'tree'] as const;
  const got: string[] = [];
  chunks.forEach((chunk, i) => {
    ids.start(types[i % 2]!, chunk);
    if (ids.outstanding === BLOB_ID_PIPELINE_DEPTH) got.push(ids.next());
  });
  while (ids.outstanding > 0) got.push(ids.next());
  assert.deepEqual(
    got,
    chunks.map((chunk, i) => referenceId(key, i % 2, chunk)),
  );
  assert.deepEqual(
    got,
    chunks.map((chunk, i) => blobIdOf(key, types[i % 2]!, chunk)),
  );
});

void test('pipelines on one thread are independent: interleaved, drained and closed', () => {
  const keys = [randomBytes(32), randomBytes(32)] as const;
  const [a, b] = [new BlobIdPipeline(keys[0]), new BlobIdPipeline(keys[1])];
  const data = randomBytes(200_000);
  a.start('data', data);
  b.start('data', data);
  a.start('data', data.subarray(1));
  b.start('tree', data);
  // Taking b's second id gives up none of a's; draining b leaves a's outstanding.
  assert.equal(b.next(), referenceId(keys[1], 0, data));
  assert.equal(b.next(), referenceId(keys[1], 1, data));
  b.start('data', data);
  b.drain();
  assert.equal(a.next(), referenceId(keys[0], 0, data));
  assert.equal(a.next(), referenceId(keys[0], 0, data.subarray(1)));
  // After close, ids are computed by start itself, still the same.
  a.close();
  a.start('tree', data);
  assert.equal(a.next(), referenceId(keys[0], 1, data));
  b.close();
});

void test('more than the depth outstanding, or an id never started, is refused', () => {
  const ids = new BlobIdPipeline(randomBytes(32));
  const data = randomBytes(1000);
  for (let i = 0; i < BLOB_ID_PIPELINE_DEPTH; i++) ids.start('data', data);
  assert.throws(() => ids.start('data', data), /too many blob ids outstanding/);
  ids.drain();
  assert.equal(ids.outstanding, 0);
  assert.throws(() => ids.next(), /no id outstanding/);
  // A ticket never started, one collected, and one given up by collecting a newer one name no id.
  const addon = blobCrypto();
  const p = addon.blobIdPipeline();
  const key = randomBytes(32);
  const first = addon.blobIdStart(p, key, 0, data);
  const second = addon.blobIdStart(p, key, 0, data);
  assert.throws(() => addon.blobIdCollect(p, second + 1), /no such blob id outstanding/);
  assert.equal(addon.blobIdCollect(p, second), referenceId(key, 0, data));
  assert.throws(() => addon.blobIdCollect(p, second), /no such blob id outstanding/);
  assert.throws(() => addon.blobIdCollect(p, first), /no such blob id outstanding/);
  assert.throws(() => addon.blobIdStart(p, randomBytes(31), 0, data), /idKey must be 32 bytes/);
  assert.throws(() => addon.blobIdStart(p, key, 256, data), /typeCode must be a byte/);
  const notOne = [{}, undefined, Buffer.alloc(8)] as unknown as ReturnType<
    typeof addon.blobIdPipeline
  >[];
  for (const other of notOne)
    assert.throws(() => addon.blobIdStart(other, key, 0, data), /pipeline must come from/);
});

void test('drain waits for the ids in flight; the pipeline goes on afterwards', () => {
  const key = randomBytes(32);
  const ids = new BlobIdPipeline(key);
  const big = randomBytes(8 << 20);
  ids.start('data', big);
  ids.start('data', big.subarray(1 << 20));
  ids.drain();
  // The helper no longer reads `big`: changing it cannot change an id computed afterwards.
  big.fill(7);
  ids.start('data', big);
  assert.equal(ids.next(), referenceId(key, 0, big));
});

void test('a worker thread has a pipeline and helper of its own, and stops cleanly', async () => {
  const key = randomBytes(32);
  const data = randomBytes(3 << 20);
  const url = new URL('./blob-id-pipeline.js', import.meta.url).href;
  const run = (): Promise<string[]> => {
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then(({ BlobIdPipeline }) => {
         const { parentPort, workerData } = require('node:worker_threads');
         const ids = new BlobIdPipeline(Buffer.from(workerData.key));
         ids.start('data', workerData.data);
         ids.start('tree', workerData.data);
         parentPort.postMessage([ids.next(), ids.next()]);
         // Left outstanding on purpose: the thread's end must wait for the helper, not crash.
         ids.start('data', workerData.data);
       });`,
      { eval: true, workerData: { key, data } },
    );
    return new Promise((resolve, reject) => {
      worker.once('message', (m: string[]) => void worker.terminate().then(() => resolve(m)));
      worker.once('error', reject);
    });
  };
  const results = await Promise.all([run(), run()]);
  for (const got of results)
    assert.deepEqual(got, [referenceId(key, 0, data), referenceId(key, 1, data)]);
});

void test('a pipeline dropped while its helper hashes keeps the bytes alive until it stops', async () => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 4; i++) {
    // 64 MiB take the helper tens of milliseconds: the collection below happens meanwhile.
    // Were the buffer freed (unmapped) under the helper, the process would crash here.
    (() => new BlobIdPipeline(randomBytes(32)).start('data', Buffer.alloc(64 << 20, i)))();
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  const key = randomBytes(32);
  const ids = new BlobIdPipeline(key);
  ids.start('data', Buffer.from('after'));
  assert.equal(ids.next(), referenceId(key, 0, Buffer.from('after')));
  ids.close();
});
