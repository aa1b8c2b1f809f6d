/**
 * S3 locations (the part after `s3:`):
 *
 *   http[s]://HOST[:PORT]/BUCKET[/PREFIX]   any S3-compatible service, path-style requests
 *   BUCKET[/PREFIX]                         AWS, with the region from the environment
 *
 * The prefix is a key prefix inside the bucket, so several repositories can share one bucket.
 */
import { HoldfastError } from '../../core/index.js';

export interface S3Location {
  /** Undefined for AWS's own endpoints. */
  readonly endpoint: string | undefined;
  readonly bucket: string;
  /** Key prefix without leading or trailing slashes; '' for the bucket root. */
  readonly prefix: string;
  /** For messages: `s3:` plus the location as given, normalised, without credentials. */
  readonly display: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Location(rest: string): S3Location {
  const usage = (why: string) =>
    new HoldfastError('USAGE', `invalid S3 location "s3:${rest}": ${why}`, {
      hint: 'use s3:https://HOST[:PORT]/BUCKET[/PREFIX] or, for AWS, s3:BUCKET[/PREFIX]',
    });
  let endpoint: string | undefined;
  let path = rest;
  if (/^https?:\/\//i.test(rest)) {
    let url: URL;
    try {
      url = new URL(rest);
    } catch {
      throw usage('not a URL');
    }
    if (url.username || url.password)
      throw usage('credentials do not belong in the location; set AWS_ACCESS_KEY_ID instead');
    if (url.search || url.hash) throw usage('query strings and fragments are not supported');
    endpoint = `${url.protocol}//${url.host}`;
    path = decodeURIComponent(url.pathname);
  }
  const parts = path.split('/').filter((p) => p !== '');
  const bucket = parts.shift() ?? '';
  if (bucket === '') throw usage('no bucket name');
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw usage(`"${bucket}" is not a valid bucket name`);
  if (parts.some((p) => p === '.' || p === '..')) throw usage('"." and ".." are not allowed');
  const prefix = parts.join('/');
  const display = `s3:${endpoint ? `${endpoint}/` : ''}${bucket}${prefix ? `/${prefix}` : ''}`;
  return { endpoint, bucket, prefix, display };
}
