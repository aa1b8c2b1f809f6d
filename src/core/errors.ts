/**
 * The one error class of holdfast. Every failure that reaches a user carries a stable `code`
 * (mapped exhaustively to exit codes in cli/ and HTTP statuses in server/), a message that names
 * what failed, and a hint that says what to do. Messages never contain secrets.
 */

/** Stable error codes. Adding one fails the typecheck until every mapping table handles it. */
export const ERROR_CODES = [
  'FAILURE', // anything not covered below
  'USAGE', // bad flags or arguments
  'CONFIG_INVALID', // invalid configuration or input file
  'PASSWORD_REQUIRED', // no password source available
  'REPOSITORY_NOT_FOUND',
  'REPOSITORY_EXISTS', // init refuses to overwrite
  'LOCK_FAILED',
  'WRONG_PASSWORD',
  'INTEGRITY', // damaged or tampered repository data
  'UNSUPPORTED_FORMAT', // repository written by a newer holdfast
  'NOT_FOUND', // snapshot, path or key not found
  'AMBIGUOUS_ID', // short id prefix matches several objects
  'OBJECT_EXISTS', // write-once object already present
  'POLICY_VIOLATED',
  'STORAGE_UNAVAILABLE', // transient storage failure that outlived the retries
  'STORAGE_FAILED', // permanent storage error (permissions, disk full, ...)
  'SOURCE_UNAVAILABLE', // backup source could not be read (command failed, path missing)
  'INTERRUPTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `code` is one of ERROR_CODES (for codes that crossed a thread or process boundary). */
export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

export interface HoldfastErrorOptions {
  /** What the user can do about it, one sentence. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class HoldfastError extends Error {
  override readonly name = 'HoldfastError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: HoldfastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

export function isHoldfastError(err: unknown, code?: ErrorCode): err is HoldfastError {
  return err instanceof HoldfastError && (code === undefined || err.code === code);
}

/** The errno code of a Node system error (`ENOENT`, ...), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code: unknown = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A short, secret-free description of any thrown value, for messages and logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Thrown when an AbortSignal fires; maps to exit code 130. */
export function interrupted(signal?: AbortSignal): HoldfastError {
  return new HoldfastError('INTERRUPTED', 'interrupted', { cause: signal?.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted(signal);
}
