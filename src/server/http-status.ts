/**
 * The one table from error codes to HTTP statuses (the server's twin of cli/exit-codes.ts).
 * Exhaustive: adding an ErrorCode fails the typecheck until it is mapped here. The client
 * (storage/rest) maps statuses back; docs/design/repository-server.md lists both directions.
 */
import type { ErrorCode } from '../core/index.js';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  FAILURE: 500,
  USAGE: 400, // malformed request: path, range, body length, content that does not match its name
  CONFIG_INVALID: 400,
  PASSWORD_REQUIRED: 401, // no credentials sent
  REPOSITORY_NOT_FOUND: 404,
  REPOSITORY_EXISTS: 409,
  LOCK_FAILED: 423,
  WRONG_PASSWORD: 401, // credentials sent but not accepted
  // The store raises INTEGRITY for a request only when a range is not inside the object.
  INTEGRITY: 416,
  UNSUPPORTED_FORMAT: 400,
  NOT_FOUND: 404,
  AMBIGUOUS_ID: 400,
  OBJECT_EXISTS: 409,
  POLICY_VIOLATED: 403, // append-only refusals, private-repository rules
  STORAGE_UNAVAILABLE: 503, // transient: the client retries
  STORAGE_FAILED: 500, // permanent: disk full, permissions
  SOURCE_UNAVAILABLE: 500,
  INTERRUPTED: 503, // the server is shutting down: retry elsewhere or later
};

/** Sent as Retry-After with every 503: a hint for clients other than holdfast's own. */
export const RETRY_AFTER_SECONDS = 2;
