import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HoldfastError } from '../core/index.js';
import { retryWarning } from './retry-warning.js';

const name = 'ab'.repeat(32);

void it('shows the failure, the attempt and the wait before the next one', () => {
  const error = new HoldfastError('STORAGE_UNAVAILABLE', `could not write pack ${name} at s3:b`);
  const event = { operation: 'put', kind: 'pack', name, maxAttempts: 8, error } as const;
  assert.equal(
    retryWarning({ ...event, attempt: 1, delayMs: 140 }),
    `could not write pack ${name} at s3:b (attempt 1 of 8; retrying in 140 ms)`,
  );
  assert.equal(
    retryWarning({ ...event, attempt: 7, delayMs: 9_460 }),
    `could not write pack ${name} at s3:b (attempt 7 of 8; retrying in 9.5 s)`,
  );
});

void it('names the request when the error does not', () => {
  const event = {
    operation: 'list',
    kind: 'snapshot',
    name: undefined,
    attempt: 2,
    maxAttempts: 3,
    delayMs: 1_000,
    error: new Error('socket hang up'),
  } as const;
  assert.equal(
    retryWarning(event),
    'list snapshot failed: socket hang up (attempt 2 of 3; retrying in 1.0 s)',
  );
});
