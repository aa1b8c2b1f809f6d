/**
 * The line printed (as a warning) each time a storage request failed and will be retried, so that
 * a user watching a slow or stuck command sees why, how often it has tried and how long it waits.
 */
import { describeError, isHoldfastError } from '../core/index.js';
import { describeObject, type RetryEvent } from '../storage/index.js';

/**
 * "could not write pack 3fa4… at s3:…: connect ECONNREFUSED … (attempt 2 of 8; retrying in
 * 640 ms)". Our backends' errors name the request and the storage already; anything else is
 * prefixed with the request here.
 */
export function retryWarning(event: RetryEvent): string {
  const { kind, name } = event;
  const what =
    kind === undefined ? 'storage' : name === undefined ? kind : describeObject(kind, name);
  const failure = isHoldfastError(event.error)
    ? describeError(event.error)
    : `${event.operation} ${what} failed: ${describeError(event.error)}`;
  const wait =
    event.delayMs < 1000 ? `${event.delayMs} ms` : `${(event.delayMs / 1000).toFixed(1)} s`;
  return `${failure} (attempt ${event.attempt} of ${event.maxAttempts}; retrying in ${wait})`;
}
