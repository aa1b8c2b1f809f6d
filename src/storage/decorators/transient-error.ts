/**
 * Which failures are worth retrying. STORAGE_UNAVAILABLE is transient by definition; other errors
 * (from libraries a backend wraps) may be flagged with `transient: true`. Answers that retrying
 * cannot change — the object exists, is missing, storage is broken, the user interrupted — are
 * never retried, whatever their flag says.
 */
import { isHoldfastError, type ErrorCode } from '../../core/index.js';

const NEVER_RETRIED: readonly ErrorCode[] = [
  'OBJECT_EXISTS',
  'NOT_FOUND',
  'STORAGE_FAILED',
  'INTERRUPTED',
];

export function isTransientError(err: unknown): boolean {
  if (isHoldfastError(err)) {
    if (NEVER_RETRIED.includes(err.code)) return false;
    if (err.code === 'STORAGE_UNAVAILABLE') return true;
  }
  return (
    typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true
  );
}

/** Flags an error as transient for the retry decorator; returns it for `throw markTransient(e)`. */
export function markTransient<E extends object>(err: E): E & { readonly transient: true } {
  return Object.assign(err, { transient: true as const });
}
