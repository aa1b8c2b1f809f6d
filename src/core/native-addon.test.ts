import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHoldfastError } from './errors.js';
import { loadAddon } from './native-addon.js';

void test('a built addon loads once; a missing one is FAILURE naming it, with what to do', () => {
  const crypto = loadAddon<{ blobId: unknown }>('holdfast_crypto');
  assert.equal(typeof crypto.blobId, 'function');
  assert.equal(loadAddon('holdfast_crypto'), crypto, 'the same module object, not reloaded');
  assert.throws(
    () => loadAddon('holdfast_no_such_addon'),
    (e) =>
      isHoldfastError(e, 'FAILURE') &&
      /holdfast_no_such_addon/.test(e.message) &&
      /npm install/.test(e.hint ?? ''),
  );
});
