/**
 * Blob seals and the one read path (unsealBlob): a blob opens only under its own type and id,
 * and the scratch buffer is used only where the bytes fit, never overlapping. verifyBlob makes
 * the same checks without keeping the plaintext; unsealBlobEach hands a large blob over in pieces,
 * only once all of it verified.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isHoldfastError, type BlobId } from '../../core/index.js';
import { compressBlob } from '../compression/index.js';
import { blobIdOf, SEAL_OVERHEAD } from '../crypto/index.js';
import { openBlob, sealBlob, sealBlobInto } from './sealed-blob.js';
import { unsealBlob, unsealBlobEach, unsealScratchBytes, verifyBlob } from './unseal-blob.js';

const keys = { masterKey: randomBytes(32), idKey: randomBytes(32) };
const text = Buffer.from('a restore that was never tried is a hope, not a backup. '.repeat(4000));

void test('a blob opens under its own type and id only', () => {
  const id = blobIdOf(keys.idKey, 'data', text);
  const sealed = sealBlob(keys.masterKey, 'data', id, text);
  assert.equal(sealed.length, text.length + SEAL_OVERHEAD);
  assert.deepEqual(openBlob(keys.masterKey, 'data', id, sealed), text);
  const other = blobIdOf(keys.idKey, 'data', Buffer.from('x'));
  for (const [type, blobId] of [
    ['tree', id],
    ['data', other],
  ] as const)
    assert.throws(
      () => openBlob(keys.masterKey, type, blobId, sealed),
      (e) => isHoldfastError(e, 'INTEGRITY') && e.message.includes(blobId),
    );
  assert.throws(
    () => openBlob(keys.masterKey, 'data', id, sealed.subarray(0, 20)),
    (e) => isHoldfastError(e, 'INTEGRITY') && /too short/.test(e.message),
  );
});

void test('sealBlobInto writes at the offset; openBlob opens into a buffer with room', () => {
  const id = blobIdOf(keys.idKey, 'tree', text);
  const out = Buffer.alloc(text.length + SEAL_OVERHEAD + 100);
  const n = sealBlobInto(keys.masterKey, 'tree', id, text, out, 100);
  const into = Buffer.alloc(text.length + 1);
  const opened = openBlob(keys.masterKey, 'tree', id, out.subarray(100, 100 + n), into);
  assert.equal(opened.buffer, into.buffer, 'opened into the given buffer');
  assert.deepEqual(opened, text);
  const small = Buffer.alloc(10);
  const fresh = openBlob(keys.masterKey, 'tree', id, out.subarray(100, 100 + n), small);
  assert.notEqual(fresh.buffer, small.buffer, 'no room: a buffer of its own');
  assert.deepEqual(fresh, text);
});

void test('unsealBlob uses scratch for raw plus stored bytes, and falls back without room', () => {
  const id = blobIdOf(keys.idKey, 'data', text);
  const compressed = compressBlob(text, 'auto')!;
  const sealed = sealBlob(keys.masterKey, 'data', id, compressed);
  const unseal = (scratch?: Buffer): Buffer =>
    unsealBlob(keys, 'data', id, sealed, 1, text.length, 'pack p', scratch);
  for (const room of [0, 10, text.length, text.length + compressed.length - 1]) {
    const scratch = Buffer.alloc(room);
    const plain = unseal(scratch);
    assert.deepEqual(plain, text, `scratch of ${room} bytes`);
  }
  const roomy = Buffer.alloc(text.length + compressed.length);
  const plain = unseal(roomy);
  assert.equal(plain.buffer, roomy.buffer);
  assert.equal(plain.byteOffset, roomy.byteOffset);
  assert.deepEqual(plain, text);
  // Stored raw: opened straight into scratch.
  const raw = randomBytes(5000);
  const rawId = blobIdOf(keys.idKey, 'data', raw);
  const rawSealed = sealBlob(keys.masterKey, 'data', rawId, raw);
  const out = unsealBlob(keys, 'data', rawId, rawSealed, 0, raw.length, 'pack p', roomy);
  assert.equal(out.buffer, roomy.buffer);
  assert.deepEqual(out, raw);
});

void test('unsealBlob rejects a wrong recorded length and content under a foreign id', () => {
  const id = blobIdOf(keys.idKey, 'data', text);
  const sealed = sealBlob(keys.masterKey, 'data', id, text);
  assert.throws(
    () => unsealBlob(keys, 'data', id, sealed, 0, text.length - 1, 'pack p'),
    (e) => isHoldfastError(e, 'INTEGRITY') && /pack p/.test(e.message),
  );
  // Sealed under an id that is not the content's: the seal opens, the id check does not.
  const forged = ('0'.repeat(63) + '1') as BlobId;
  const wrong = sealBlob(keys.masterKey, 'data', forged, text);
  assert.throws(
    () => unsealBlob(keys, 'data', forged, wrong, 0, text.length, 'pack p', Buffer.alloc(1 << 20)),
    (e) => isHoldfastError(e, 'INTEGRITY') && /does not match its id/.test(e.message),
  );
});

/**
 * What every reader of a compressed blob must refuse, and with which message: its seal damaged,
 * a recorded length too short or too long, content sealed under an id that is not its own.
 */
function refusals(
  id: BlobId,
  sealed: Buffer,
  compressed: Buffer,
  rawLength: number,
): [BlobId, Buffer, number, RegExp][] {
  const damaged = Buffer.from(sealed);
  damaged[damaged.length >> 1]! ^= 0x01;
  const forged = ('0'.repeat(63) + '2') as BlobId;
  const underForged = sealBlob(keys.masterKey, 'data', forged, compressed);
  return [
    [id, damaged, rawLength, /authentication failed/],
    [id, sealed, rawLength - 1, /longer than recorded/],
    [id, sealed, rawLength + 1, /recorded/],
    [forged, underForged, rawLength, /does not match its id/],
  ];
}

void test("verifyBlob checks a large compressed blob a piece at a time, with unsealBlob's verdicts", () => {
  const large = Buffer.concat([text, text, randomBytes(300_000), text, text, text]); // > 1 MiB
  assert.ok(large.length > 1024 * 1024);
  const id = blobIdOf(keys.idKey, 'data', large);
  const compressed = compressBlob(large, 'auto')!;
  const sealed = sealBlob(keys.masterKey, 'data', id, compressed);
  const verify = (blobId: BlobId, bytes: Buffer, rawLength: number, scratch?: Buffer): void =>
    verifyBlob(keys, 'data', blobId, bytes, 1, rawLength, 'pack p', scratch);
  // Scratch with room for the stored bytes and a piece, and none at all.
  const scratch = Buffer.alloc(compressed.length + 256 * 1024);
  verify(id, sealed, large.length, scratch);
  verify(id, sealed, large.length);
  // Nothing beyond the stored bytes and one piece was written: no room for the whole blob used.
  const guarded = Buffer.alloc(compressed.length + 256 * 1024 + 4096, 0xee);
  verify(id, sealed, large.length, guarded);
  assert.ok(guarded.subarray(compressed.length + 256 * 1024).every((b) => b === 0xee));
  for (const [blobId, bytes, rawLength, message] of refusals(
    id,
    sealed,
    compressed,
    large.length,
  )) {
    for (const check of [
      () => verify(blobId, bytes, rawLength, scratch),
      () => void unsealBlob(keys, 'data', blobId, bytes, 1, rawLength, 'pack p'),
    ])
      assert.throws(check, (e) => isHoldfastError(e, 'INTEGRITY') && message.test(e.message));
  }
});

void test('unsealBlobEach gives a large compressed blob in pieces, only after all of it verified', () => {
  const large = Buffer.concat([text, text, randomBytes(300_000), text, text, text]); // > 1 MiB
  const id = blobIdOf(keys.idKey, 'data', large);
  const compressed = compressBlob(large, 'auto')!;
  const sealed = sealBlob(keys.masterKey, 'data', id, compressed);
  const need = unsealScratchBytes(1, large.length, sealed.length);
  assert.equal(need, compressed.length + 256 * 1024);
  const collect = (blobId: BlobId, bytes: Buffer, rawLength: number, scratch?: Buffer) => {
    const pieces: [Buffer, number][] = [];
    unsealBlobEach(keys, 'data', blobId, bytes, 1, rawLength, 'pack p', scratch, (b, at) =>
      pieces.push([Buffer.from(b), at]),
    );
    return pieces;
  };
  // With room for exactly what it needs (and a guard after it), and with none.
  const guarded = Buffer.alloc(need + 4096, 0xee);
  for (const scratch of [guarded, undefined]) {
    const pieces = collect(id, sealed, large.length, scratch);
    assert.ok(pieces.length > 4);
    let at = 0;
    for (const [bytes, offset] of pieces) {
      assert.equal(offset, at);
      assert.ok(bytes.length > 0 && bytes.length < large.length);
      at += bytes.length;
    }
    assert.deepEqual(Buffer.concat(pieces.map(([b]) => b)), large);
  }
  assert.ok(
    guarded.subarray(need).every((b) => b === 0xee),
    'nothing written past its need',
  );
  // What unsealBlob refuses, it refuses before handing over a single piece.
  for (const [blobId, bytes, rawLength, message] of refusals(
    id,
    sealed,
    compressed,
    large.length,
  )) {
    let visited = 0;
    assert.throws(
      () =>
        unsealBlobEach(keys, 'data', blobId, bytes, 1, rawLength, 'pack p', guarded, () => {
          visited++;
        }),
      (e) => isHoldfastError(e, 'INTEGRITY') && message.test(e.message),
    );
    assert.equal(visited, 0, String(message));
  }
});

void test('unsealBlobEach gives a small or stored blob whole, in one call', () => {
  const id = blobIdOf(keys.idKey, 'data', text);
  const compressed = compressBlob(text, 'auto')!;
  const raw = randomBytes(2 * 1024 * 1024);
  const rawId = blobIdOf(keys.idKey, 'data', raw);
  for (const [blobId, plain, stored, compression] of [
    [id, text, compressed, 1],
    [rawId, raw, raw, 0],
  ] as const) {
    const sealed = sealBlob(keys.masterKey, 'data', blobId, stored);
    const need = unsealScratchBytes(compression, plain.length, sealed.length);
    const calls: [Buffer, number][] = [];
    unsealBlobEach(
      keys,
      'data',
      blobId,
      sealed,
      compression,
      plain.length,
      'pack p',
      Buffer.alloc(need),
      (b, at) => calls.push([Buffer.from(b), at]),
    );
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![1], 0);
    assert.deepEqual(calls[0]![0], plain);
  }
});

void test('a small sealed blob has a buffer of its own, not a slice of a shared pool', () => {
  // It waits in its pack until the pack is stored: a slice would keep the whole pool alive.
  const small = Buffer.from('a small tree');
  const sealed = sealBlob(keys.masterKey, 'tree', blobIdOf(keys.idKey, 'tree', small), small);
  assert.equal(sealed.buffer.byteLength, sealed.length);
  assert.equal(sealed.byteOffset, 0);
});
