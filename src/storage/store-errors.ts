/**
 * Errors every backend raises the same way, so the conformance suite can pin codes and callers
 * can branch on them without knowing which backend they talk to.
 */
import { HoldfastError } from '../core/index.js';
import { describeObject } from './object-name.js';
import type { ByteRange, ObjectKind } from './object-store.js';

export function objectNotFound(kind: ObjectKind, name: string): HoldfastError {
  return new HoldfastError('NOT_FOUND', `${describeObject(kind, name)} not found in storage`);
}

export function objectExists(kind: ObjectKind, name: string): HoldfastError {
  return new HoldfastError('OBJECT_EXISTS', `${describeObject(kind, name)} already exists`, {
    hint: 'objects are write-once; an existing object is never replaced',
  });
}

/** Range checks that do not need the object: a bad range is a caller bug. */
export function assertValidRange(range: ByteRange): void {
  const ok = Number.isSafeInteger(range.offset) && Number.isSafeInteger(range.length);
  if (ok && range.offset >= 0 && range.length >= 0) return;
  throw new HoldfastError('FAILURE', `invalid byte range ${range.offset}+${range.length}`);
}

/**
 * A range past the end means the caller's index disagrees with the stored object (objects never
 * change), which is repository damage, hence INTEGRITY rather than a storage failure.
 */
export function rangePastEnd(
  kind: ObjectKind,
  name: string,
  range: ByteRange,
  size: number,
): HoldfastError {
  return new HoldfastError(
    'INTEGRITY',
    `byte range ${range.offset}+${range.length} is past the end of ${describeObject(kind, name)} (${size} bytes)`,
    { hint: 'the index does not match the stored object; run check' },
  );
}

export function storeClosed(location: string): HoldfastError {
  return new HoldfastError('FAILURE', `storage ${location} is closed`);
}
