/**
 * The holdfast_crypto addon against node:crypto, which computes the same constructions the
 * format spec describes (aead.ts): any difference would make repositories unreadable.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { deriveSubkey, open, seal, SEAL_OVERHEAD } from './aead.js';
import { fileIdOfParts } from './file-id-of-parts.js';
import { fileIdOf } from './keyed-hash.js';
import { blobCrypto } from './native-crypto.js';

const label = Buffer.from('holdfast blob v1');
const sizes = [0, 1, 31, 4096, 65_537, (1 << 20) + 3];

function referenceId(key: Buffer, type: number, data: Uint8Array): string {
  return createHmac('sha256', key)
    .update(Buffer.from([type]))
    .update(data)
    .digest('hex');
}

void test('blobId is HMAC-SHA256(idKey, type || data), also when keys alternate', () => {
  const keys = [randomBytes(32), randomBytes(32)];
  for (const size of sizes)
    for (const type of [0, 1])
      for (const key of [keys[0]!, keys[1]!, keys[0]!]) {
        // A view at an odd offset of a larger buffer: the addon must honour byteOffset.
        const data = randomBytes(size + 5).subarray(3, 3 + size);
        assert.equal(blobCrypto().blobId(key, type, data), referenceId(key, type, data));
      }
});

void test('sealInto opens with node:crypto, and node:crypto seals open with openInto', () => {
  const master = randomBytes(32);
  for (const size of sizes) {
    const context = randomBytes(33);
    const plain = randomBytes(size);
    const out = Buffer.alloc(size + SEAL_OVERHEAD + 10, 0xee);
    const n = blobCrypto().sealInto(master, label, context, plain, out, 7);
    assert.equal(n, size + SEAL_OVERHEAD);
    assert.equal(out[6], 0xee, 'nothing written before the offset');
    assert.equal(out[7 + n], 0xee, 'nothing written after the seal');
    const subkey = deriveSubkey(master, label.toString(), context);
    assert.deepEqual(open(subkey, out.subarray(7, 7 + n), context, 'x'), plain);
    const fromNode = seal(subkey, plain, context);
    const back = Buffer.alloc(size + 2);
    assert.equal(blobCrypto().openInto(master, label, context, fromNode, back, 2), size);
    assert.deepEqual(back.subarray(2), plain);
  }
});

void test('two seals of one plaintext differ (fresh random nonce)', () => {
  const [master, context, plain] = [randomBytes(32), randomBytes(33), randomBytes(100)];
  const a = Buffer.alloc(128);
  const b = Buffer.alloc(128);
  blobCrypto().sealInto(master, label, context, plain, a, 0);
  blobCrypto().sealInto(master, label, context, plain, b, 0);
  assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
});

void test('openInto returns -1 for any flipped bit, another context, key or label', () => {
  const [master, context] = [randomBytes(32), randomBytes(33)];
  const sealed = Buffer.alloc(100 + SEAL_OVERHEAD);
  blobCrypto().sealInto(master, label, context, randomBytes(100), sealed, 0);
  const out = Buffer.alloc(100);
  const openWith = (s: Buffer, m = master, c = context, l = label): number =>
    blobCrypto().openInto(m, l, c, s, out, 0);
  assert.equal(openWith(sealed), 100);
  for (const pos of [0, 11, 12, 60, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[pos]! ^= 0x01;
    assert.equal(openWith(bad), -1, `flipped byte ${pos}`);
  }
  assert.equal(openWith(sealed, randomBytes(32)), -1);
  assert.equal(openWith(sealed, master, randomBytes(33)), -1);
  assert.equal(openWith(sealed, master, context, Buffer.from('holdfast blob v2')), -1);
  assert.equal(openWith(sealed.subarray(0, SEAL_OVERHEAD - 1)), -1, 'too short');
  assert.equal(openWith(sealed.subarray(0, sealed.length - 1)), -1, 'truncated');
});

void test('bad arguments throw instead of writing out of bounds', () => {
  const c = blobCrypto();
  const [master, context] = [randomBytes(32), randomBytes(33)];
  assert.throws(
    () => c.sealInto(master, label, context, randomBytes(10), Buffer.alloc(37), 0),
    RangeError,
  );
  assert.throws(
    () => c.sealInto(master, label, context, randomBytes(10), Buffer.alloc(38), 1),
    RangeError,
  );
  assert.throws(
    () => c.sealInto(master, label, context, randomBytes(10), Buffer.alloc(38), -1),
    RangeError,
  );
  assert.throws(
    () => c.sealInto(master, label, context, randomBytes(10), Buffer.alloc(38), 0.5),
    RangeError,
  );
  assert.throws(
    () => c.sealInto(randomBytes(16), label, context, Buffer.alloc(0), Buffer.alloc(64), 0),
    RangeError,
  );
  assert.throws(
    () => c.sealInto(master, label, randomBytes(65), Buffer.alloc(0), Buffer.alloc(64), 0),
    RangeError,
  );
  assert.throws(
    () => c.openInto(master, label, context, Buffer.alloc(40), Buffer.alloc(11), 0),
    RangeError,
  );
  assert.throws(() => c.blobId(master, 0, 'text' as unknown as Uint8Array), TypeError);
  assert.throws(() => c.blobId(master, 256, Buffer.alloc(1)), RangeError);
  assert.throws(() => (c.blobId as (...a: unknown[]) => string)(master, 0), TypeError);
});

void test('worker threads get their own contexts and the same results', async () => {
  const key = randomBytes(32);
  const data = randomBytes(70_000);
  const url = new URL('./native-crypto.js', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(url)}).then(({ blobCrypto }) => {
       const { parentPort, workerData } = require('node:worker_threads');
       parentPort.postMessage(blobCrypto().blobId(workerData.key, 1, workerData.data));
     });`,
    { eval: true, workerData: { key, data } },
  );
  const id = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(id, referenceId(key, 1, data));
  assert.equal(blobCrypto().blobId(key, 1, data), id);
});

void test('fileIdOfParts names the parts back to back by SHA-256, in the thread pool', async () => {
  for (const sizes of [[], [0], [1, 0, 31], [4096, 65_537, (1 << 20) + 3, 16]]) {
    // Views at odd offsets of larger buffers: the addon must honour byteOffset.
    const parts = sizes.map((n) => randomBytes(n + 7).subarray(5, 5 + n));
    const id = await fileIdOfParts<string>(parts);
    const joined = Buffer.concat(parts);
    assert.equal(id, createHash('sha256').update(joined).digest('hex'));
    assert.equal(id, fileIdOf(joined));
  }
  // Several at once, as overlapping pack uploads do: each job has its own hash context.
  const many = Array.from({ length: 8 }, () => [randomBytes(300_000), randomBytes(1000)]);
  const ids = await Promise.all(many.map((parts) => fileIdOfParts<string>(parts)));
  ids.forEach((id, i) => assert.equal(id, fileIdOf(Buffer.concat(many[i]!))));
});

void test('fileIdOfParts refuses parts that are not bytes', () => {
  const addon = blobCrypto();
  assert.throws(() => addon.fileIdOfParts(['abcd' as unknown as Uint8Array]), TypeError);
  assert.throws(() => addon.fileIdOfParts(Buffer.alloc(4) as unknown as Uint8Array[]), TypeError);
});
