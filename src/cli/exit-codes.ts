/**
 * The one table from error codes to exit codes. Exhaustive: adding an ErrorCode fails the
 * typecheck until it is mapped here. Numbers follow restic's where they overlap.
 */
import type { ErrorCode } from '../core/index.js';

export const EXIT_OK = 0;
export const EXIT_PARTIAL = 3;

export const EXIT_CODES: Record<ErrorCode, number> = {
  FAILURE: 1,
  USAGE: 2,
  CONFIG_INVALID: 2,
  PASSWORD_REQUIRED: 2,
  REPOSITORY_NOT_FOUND: 10,
  REPOSITORY_EXISTS: 1,
  LOCK_FAILED: 11,
  WRONG_PASSWORD: 12,
  INTEGRITY: 13,
  UNSUPPORTED_FORMAT: 1,
  NOT_FOUND: 1,
  AMBIGUOUS_ID: 1,
  OBJECT_EXISTS: 1,
  POLICY_VIOLATED: 14,
  STORAGE_UNAVAILABLE: 20,
  STORAGE_FAILED: 1,
  SOURCE_UNAVAILABLE: 21,
  INTERRUPTED: 130,
};
