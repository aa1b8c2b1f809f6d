import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHoldfastError } from '../../core/index.js';
import { isTransientS3Error, s3Error } from './s3-errors.js';
import { S3Keys } from './s3-keys.js';
import { parseS3Location } from './s3-location.js';

void describe('parseS3Location', () => {
  void it('parses path-style endpoints and AWS bucket names, with or without a prefix', () => {
    assert.deepEqual(parseS3Location('http://127.0.0.1:7480/bkt/a/b/'), {
      endpoint: 'http://127.0.0.1:7480',
      bucket: 'bkt',
      prefix: 'a/b',
      display: 's3:http://127.0.0.1:7480/bkt/a/b',
    });
    assert.deepEqual(parseS3Location('my-backups'), {
      endpoint: undefined,
      bucket: 'my-backups',
      prefix: '',
      display: 's3:my-backups',
    });
  });

  void it('rejects missing buckets, bad names, credentials and dot segments', () => {
    for (const bad of [
      '',
      'https://h/',
      'A_B',
      'ab',
      'http://u:p@h/bkt',
      'bkt/../x',
      'http://h/b?x=1',
    ])
      assert.throws(
        () => parseS3Location(bad),
        (e) => isHoldfastError(e, 'USAGE'),
        bad,
      );
  });
});

void describe('S3Keys', () => {
  const keys = new S3Keys('repo/one');
  const id = 'ab' + '0'.repeat(62);
  void it('lays objects out like a local repository under the prefix', () => {
    assert.equal(keys.key('config', 'config'), 'repo/one/config');
    assert.equal(keys.key('pack', id), `repo/one/data/ab/${id}`);
    assert.equal(keys.key('snapshot', id), `repo/one/snapshots/${id}`);
    assert.equal(new S3Keys('').key('key', id), `keys/${id}`);
  });

  void it('maps listed keys back to names, skipping strays', () => {
    assert.equal(keys.nameOf('pack', `repo/one/data/ab/${id}`), id);
    assert.equal(keys.nameOf('pack', `repo/one/data/cd/${id}`), undefined);
    assert.equal(keys.nameOf('pack', `repo/one/data/${id}`), undefined);
    assert.equal(keys.nameOf('index', `repo/one/index/${id}.tmp`), undefined);
    assert.equal(keys.nameOf('config', 'repo/one/config'), 'config');
    assert.equal(keys.nameOf('config', 'repo/one/config.bak'), undefined);
  });
});

void describe('s3Error', () => {
  const sdkError = (name: string, status: number | undefined, message = name) =>
    Object.assign(new Error(message), {
      name,
      ...(status !== undefined && { $metadata: { httpStatusCode: status } }),
    });

  void it('maps throttling, 5xx, resets and timeouts to STORAGE_UNAVAILABLE', () => {
    for (const err of [
      sdkError('SlowDown', 503),
      sdkError('InternalError', 500),
      sdkError('TooManyRequests', 429),
      sdkError('TimeoutError', undefined),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    ]) {
      assert.ok(isTransientS3Error(err), err.name);
      assert.equal(s3Error(err, 'read x', 's3:b', undefined).code, 'STORAGE_UNAVAILABLE');
    }
  });

  void it("maps 403 and 400 to STORAGE_FAILED with the service's message", () => {
    const denied = s3Error(
      sdkError('AccessDenied', 403, 'forbidden by object lock'),
      'delete pack p',
      's3:b',
      undefined,
    );
    assert.equal(denied.code, 'STORAGE_FAILED');
    assert.match(
      denied.message,
      /delete pack p at s3:b: AccessDenied \(HTTP 403\): forbidden by object lock/,
    );
    assert.equal(
      s3Error(sdkError('InvalidArgument', 400), 'x', 's3:b', undefined).code,
      'STORAGE_FAILED',
    );
    assert.equal(s3Error(new TypeError('bug'), 'x', 's3:b', undefined).code, 'STORAGE_FAILED');
  });

  void it('reports INTERRUPTED when the signal fired', () => {
    const err = s3Error(sdkError('AbortError', undefined), 'x', 's3:b', AbortSignal.abort());
    assert.equal(err.code, 'INTERRUPTED');
  });
});
