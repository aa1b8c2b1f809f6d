/**
 * Maps AWS SDK errors to the storage contract's codes. Permanent answers (access denied, bad
 * request, missing bucket) become STORAGE_FAILED with the service's own code and message, so the
 * user sees what the service said; throttling, 5xx, resets, refused connections and timeouts
 * become STORAGE_UNAVAILABLE, which the retry decorator retries.
 */
import { HoldfastError, errnoCode, interrupted } from '../../core/index.js';

/** What the SDK's errors carry that we look at. */
interface ServiceErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: unknown;
}

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
  'TimeoutError',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

export function statusOf(err: unknown): number | undefined {
  return (err as ServiceErrorLike | null)?.$metadata?.httpStatusCode;
}

export function serviceCode(err: unknown): string {
  const e = (err ?? {}) as ServiceErrorLike;
  return e.Code ?? e.name ?? 'Error';
}

export function isMissing(err: unknown): boolean {
  const code = serviceCode(err);
  return (
    statusOf(err) === 404 || code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchVersion'
  );
}

export function isTransientS3Error(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (TRANSIENT_NAMES.has(serviceCode(err))) return true;
  const code = errnoCode(err) ?? errnoCode((err as { cause?: unknown } | null)?.cause);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // No HTTP response at all: the connection failed or was cut (not a bug of ours).
  const bug = err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError;
  return status === undefined && !bug && !(err instanceof HoldfastError);
}

/** A readable "Code: message" from the service, avoiding the SDK's "UnknownError" for bodiless answers. */
export function serviceMessage(err: unknown): string {
  const e = (err ?? {}) as ServiceErrorLike;
  const code = serviceCode(err);
  const status = statusOf(err);
  const message = e.message && e.message !== 'UnknownError' ? e.message : undefined;
  const statusText = status === undefined ? '' : ` (HTTP ${status})`;
  if (message && message !== code) return `${code}${statusText}: ${message}`;
  return `${code}${statusText}`;
}

/**
 * Converts a failed call into a HoldfastError. `action` reads like "read pack 3fa4…" and
 * `location` names the store; neither contains credentials.
 */
export function s3Error(
  err: unknown,
  action: string,
  location: string,
  signal: AbortSignal | undefined,
): HoldfastError {
  if (err instanceof HoldfastError) return err;
  if (signal?.aborted) return interrupted(signal);
  const what = `${action} at ${location}: ${serviceMessage(err)}`;
  if (isTransientS3Error(err)) {
    return new HoldfastError('STORAGE_UNAVAILABLE', `could not ${what}`, {
      hint: 'the storage service is unreachable, overloaded or timing out; try again later',
      cause: err,
    });
  }
  const status = statusOf(err);
  const hint =
    status === 403
      ? 'check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS profile) and the bucket policy'
      : serviceCode(err) === 'NoSuchBucket'
        ? 'check the bucket name; "holdfast init" creates the bucket'
        : undefined;
  return new HoldfastError('STORAGE_FAILED', `could not ${what}`, {
    ...(hint && { hint }),
    cause: err,
  });
}
