/**
 * The S3 server the tests use: Ceph RGW started by scripts/test.sh (scripts/ceph-rgw-up.sh), found
 * through HOLDFAST_TEST_S3_ENDPOINT and the standard AWS variables. Without it, S3 tests are
 * skipped on a developer's machine and FAIL under CI (CI set): a missing server must never pass
 * silently.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseS3Location, type S3StoreOptions } from '../storage/index.js';
import { S3Store } from '../storage/s3/index.js';

export interface S3TestServer {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** The cluster directory of ceph-rgw-up.sh (for tests that restart a gateway), if known. */
  readonly rgwDir: string | undefined;
}

export function s3TestServer(): S3TestServer | undefined {
  const env = process.env;
  const endpoint = env.HOLDFAST_TEST_S3_ENDPOINT;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) return undefined;
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: env.AWS_REGION ?? 'us-east-1',
    rgwDir: env.HOLDFAST_TEST_RGW_DIR,
  };
}

/**
 * `describe` for tests that need the S3 server: skipped without one, except under CI, where a
 * single failing test says why.
 */
export function describeWithS3(name: string, body: (server: S3TestServer) => void): void {
  const server = s3TestServer();
  if (server) {
    void describe(name, () => body(server));
    return;
  }
  const why =
    'no S3 test server (HOLDFAST_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)';
  if (process.env.CI) {
    void describe(name, () => {
      void it('has an S3 test server', () => {
        assert.fail(`${why}: run the tests with scripts/test.sh, which starts Ceph RGW`);
      });
    });
  } else {
    void describe(name, { skip: `${why}; scripts/test.sh starts one` }, () => undefined);
  }
}

/** A bucket name no other test uses: `hf-TAG-RANDOM`. */
export function uniqueBucket(tag: string): string {
  return `hf-${tag}-${randomBytes(5).toString('hex')}`.toLowerCase();
}

/** `s3:ENDPOINT/BUCKET[/PREFIX]` for the test server. */
export function s3Location(server: S3TestServer, bucket: string, prefix = ''): string {
  return `s3:${server.endpoint}/${bucket}${prefix ? `/${prefix}` : ''}`;
}

/** An S3Store on the test server with its credentials. */
export function testS3Store(
  server: S3TestServer,
  bucket: string,
  prefix = '',
  options: Partial<S3StoreOptions> = {},
): S3Store {
  return new S3Store({
    location: parseS3Location(`${server.endpoint}/${bucket}${prefix ? `/${prefix}` : ''}`),
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    connections: 16,
    ...options,
  });
}

/** The environment a CLI run needs to reach the test server. */
export function s3Env(server: S3TestServer): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_REGION: server.region,
  };
}
