import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isHoldfastError } from '../../core/index.js';
import { deriveSubkey, open, seal, SEAL_OVERHEAD } from './aead.js';
import { blobIdHasher, blobIdOf } from './keyed-hash.js';
import { deriveKeyEncryptionKey, newKdfParams, validateKdfParams } from './kdf.js';

const key = Buffer.alloc(32, 7);
const aad = Buffer.from('context');

void test('seal/open round trip with fresh nonces', () => {
  const plain = Buffer.from('hello holdfast');
  const a = seal(key, plain, aad);
  const b = seal(key, plain, aad);
  assert.equal(a.length, plain.length + SEAL_OVERHEAD);
  assert.notDeepEqual(a, b, 'two seals of the same plaintext differ (random nonce)');
  assert.deepEqual(open(key, a, aad, 'x'), plain);
});

void test('any flipped bit, wrong AAD or wrong key fails authentication', () => {
  const sealed = seal(key, randomBytes(100), aad);
  for (const pos of [0, 11, 12, 60, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[pos]! ^= 0x01;
    assert.throws(
      () => open(key, bad, aad, 'blob x'),
      (e) => isHoldfastError(e, 'INTEGRITY') && /blob x/.test(e.message),
    );
  }
  assert.throws(
    () => open(key, sealed, Buffer.from('other'), 'x'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
  assert.throws(
    () => open(Buffer.alloc(32, 8), sealed, aad, 'x'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
  assert.throws(
    () => open(key, sealed.subarray(0, 10), aad, 'x'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
});

void test('subkeys differ by label and context', () => {
  const a = deriveSubkey(key, 'holdfast blob v1', Buffer.from([0, 1]));
  assert.notDeepEqual(a, deriveSubkey(key, 'holdfast file v1', Buffer.from([0, 1])));
  assert.notDeepEqual(a, deriveSubkey(key, 'holdfast blob v1', Buffer.from([0, 2])));
  assert.deepEqual(a, deriveSubkey(key, 'holdfast blob v1', Buffer.from([0, 1])));
});

void test('blob ids are keyed and typed (vectors computed independently with openssl)', () => {
  const data = Buffer.from('abc');
  const zero = Buffer.alloc(32, 0);
  assert.notEqual(blobIdOf(zero, 'data', data), blobIdOf(Buffer.alloc(32, 1), 'data', data));
  // HMAC-SHA256(key = 32 zero bytes, 0x00 || "abc") and (…, 0x01 || "abc").
  assert.equal(
    blobIdOf(zero, 'data', data),
    '903d1971280c31bac8fe41c9ac79d4ee20e3905103378fe718a2d2b052bd0f5c',
  );
  assert.equal(
    blobIdOf(zero, 'tree', data),
    'ca067552e7ff4259d7ecea0dbf6787d0f65c47629ad45f3ccc036541e5eecf81',
  );
});

void test('a blob id hashed in pieces is the id of the whole plaintext', () => {
  const key = Buffer.alloc(32, 7);
  const data = Buffer.from('pieces of a large blob, hashed as they are decompressed. '.repeat(999));
  for (const type of ['data', 'tree'] as const) {
    const hasher = blobIdHasher(key, type);
    for (let at = 0; at < data.length; at += 1000) hasher.update(data.subarray(at, at + 1000));
    assert.equal(hasher.digest(), blobIdOf(key, type, data));
  }
  const empty = blobIdHasher(Buffer.alloc(32, 0), 'data');
  empty.update(Buffer.from('abc'));
  assert.equal(empty.digest(), '903d1971280c31bac8fe41c9ac79d4ee20e3905103378fe718a2d2b052bd0f5c');
});

void test('scrypt key derivation is deterministic per salt and rejects absurd parameters', async () => {
  const params = newKdfParams({ N: 1024, r: 8, p: 1 });
  const a = await deriveKeyEncryptionKey('pw', params);
  assert.deepEqual(a, await deriveKeyEncryptionKey('pw', params));
  assert.notDeepEqual(a, await deriveKeyEncryptionKey('pw2', params));
  assert.throws(
    () => validateKdfParams({ ...params, N: 1 << 30 }),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
  assert.throws(
    () => validateKdfParams({ ...params, N: 1000 }),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
});
