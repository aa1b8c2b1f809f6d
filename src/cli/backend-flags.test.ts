import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isHoldfastError } from '../core/index.js';
import { transferOptions } from './backend-flags.js';

void it('--storage-retries takes 0 to 100 retries; unset keeps the default', () => {
  assert.deepEqual(transferOptions({}), {});
  assert.deepEqual(transferOptions({ storageRetries: '0' }), { retries: 0 });
  assert.deepEqual(transferOptions({ storageRetries: '20' }), { retries: 20 });
  for (const bad of ['-1', '101', '2.5', 'many', ''])
    assert.throws(
      () => transferOptions({ storageRetries: bad }),
      (err) => isHoldfastError(err, 'USAGE') && /--storage-retries/.test(err.message),
      bad,
    );
});
