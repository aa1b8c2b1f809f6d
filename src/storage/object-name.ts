/**
 * Object names. Every object except the config is named by a 64-hex-digit id (core/ids.ts), so a
 * valid name is always one safe path segment or key suffix: no separators, no dots, one spelling on
 * case-insensitive filesystems. Backends reject other names rather than escape them, so a bug above
 * cannot write outside the repository (`../`) or create two spellings of one object, and `list`
 * skips stray files (editor backups, `.DS_Store`) instead of handing them to the engine.
 */
import { HoldfastError, isHexId } from '../core/index.js';
import { CONFIG_NAME, type ObjectKind } from './object-store.js';

export function isValidObjectName(kind: ObjectKind, name: string): boolean {
  return kind === 'config' ? name === CONFIG_NAME : isHexId(name);
}

/** Throws FAILURE for an invalid name: it is a bug in the caller, not a storage condition. */
export function assertValidObjectName(kind: ObjectKind, name: string): void {
  if (isValidObjectName(kind, name)) return;
  const expected = kind === 'config' ? `"${CONFIG_NAME}"` : '64 lowercase hex digits';
  throw new HoldfastError('FAILURE', `invalid ${kind} name "${name.slice(0, 80)}"`, {
    hint: `${kind} names must be ${expected}; this is a bug in holdfast, please report it`,
  });
}

/** "pack 3fa4…" style label for messages; the config has no separate name. */
export function describeObject(kind: ObjectKind, name: string): string {
  return kind === 'config' ? 'config' : `${kind} ${name}`;
}
