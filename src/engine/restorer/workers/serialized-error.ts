/**
 * Errors crossing between the restorer and its workers: a HoldfastError keeps its code and hint,
 * a system error its errno code, so the restore reports (and exit codes) are the same whichever
 * thread met the error.
 */
import { describeError, errnoCode, HoldfastError, isErrorCode } from '../../../core/index.js';
import type { SerializedError } from './restore-job.js';

export function serializeError(err: unknown): SerializedError {
  const message = describeError(err);
  if (err instanceof HoldfastError)
    return { message, code: err.code, ...(err.hint !== undefined && { hint: err.hint }) };
  const errno = errnoCode(err);
  return { message, ...(errno !== undefined && { errno }) };
}

export function reviveError(e: SerializedError): Error {
  if (e.code !== undefined && isErrorCode(e.code))
    return new HoldfastError(e.code, e.message, e.hint !== undefined ? { hint: e.hint } : {});
  return Object.assign(new Error(e.message), e.errno !== undefined ? { code: e.errno } : {});
}
