/**
 * What RestStore makes of HTTP statuses and network failures (the reverse of the server's
 * HTTP_STATUS table; both directions are listed in docs/design/repository-server.md). Only
 * conditions that may clear by themselves are STORAGE_UNAVAILABLE, which the retry decorator
 * retries: 408, 429, 502–504, connection failures and timeouts, and a 5xx that does not say it
 * is permanent. Messages name the location without its password.
 */
import {
  describeError,
  errnoCode,
  HoldfastError,
  interrupted,
  isHoldfastError,
} from '../../core/index.js';

/** The JSON body the holdfast server sends with every error status. */
export interface ServerErrorBody {
  readonly code?: string;
  readonly message?: string;
  readonly hint?: string;
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 502, 503, 504]);
/** Codes a holdfast server sends with a 5xx that retrying cannot fix. */
const PERMANENT_SERVER_CODES = new Set(['STORAGE_FAILED', 'FAILURE', 'SOURCE_UNAVAILABLE']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * The error for a response with an unexpected status. `action` is e.g. "get pack 3fa4…",
 * `what` the object ("pack 3fa4…") for the messages the contract fixes.
 */
export function statusError(
  status: number,
  body: ServerErrorBody | undefined,
  action: string,
  what: string,
  location: string,
): HoldfastError {
  const said = body?.message ? `: ${body.message.slice(0, 300)}` : '';
  const detail = `${location}: ${action} failed with HTTP ${status}${said}`;
  switch (status) {
    case 404:
      return new HoldfastError('NOT_FOUND', `${what} not found in storage`);
    case 409:
    case 412:
      return new HoldfastError('OBJECT_EXISTS', `${what} already exists`, {
        hint: 'objects are write-once; an existing object is never replaced',
      });
    case 416:
      return new HoldfastError(
        'INTEGRITY',
        `${location}: ${action}: range not inside the object${said}`,
        {
          hint: 'the index does not match the stored object; run check',
        },
      );
    case 401:
      return new HoldfastError(
        'STORAGE_FAILED',
        `${location}: the server did not accept the credentials (HTTP 401)`,
        {
          hint: 'check USER:PASS in the rest: URL, or HOLDFAST_REST_USERNAME / HOLDFAST_REST_PASSWORD',
        },
      );
    case 403:
      return new HoldfastError('STORAGE_FAILED', detail, {
        hint:
          body?.hint ??
          'the server refused: it may be append-only, or this user may not use this repository',
      });
  }
  const permanent = body?.code !== undefined && PERMANENT_SERVER_CODES.has(body.code);
  if (TRANSIENT_STATUS.has(status) || (status >= 500 && !permanent)) {
    return new HoldfastError('STORAGE_UNAVAILABLE', detail, {
      hint: body?.hint ?? 'the server is unreachable or overloaded; try again later',
    });
  }
  return new HoldfastError('STORAGE_FAILED', detail, {
    ...(body?.hint !== undefined ? { hint: body.hint } : { hint: 'see the repository server log' }),
  });
}

/** The error for a request that got no (complete) response. */
export function transportError(
  err: unknown,
  action: string,
  location: string,
  signal: AbortSignal | undefined,
): HoldfastError {
  if (signal?.aborted) return interrupted(signal);
  if (isHoldfastError(err)) return err;
  if (err instanceof Error && err.name === 'AbortError') return interrupted(signal);
  const code = errnoCode(err);
  const message = `${location}: ${action} failed: ${describeError(err)}`;
  if (code !== undefined && TLS_CODES.has(code)) {
    return new HoldfastError('STORAGE_FAILED', message, {
      hint: 'the server certificate is not trusted; pass its CA certificate with --cacert FILE',
      cause: err,
    });
  }
  // Resets, refusals, timeouts, DNS hiccups, connections cut mid-response: all may clear.
  return new HoldfastError('STORAGE_UNAVAILABLE', message, {
    hint: 'check that the repository server is running and reachable',
    cause: err,
  });
}
