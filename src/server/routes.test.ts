import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHoldfastError } from '../core/index.js';
import { parseRoute } from './routes.js';

const id = 'ab'.repeat(32);

void describe('parseRoute', () => {
  void it('maps paths to repositories, listings and objects, with and without prefixes', () => {
    assert.deepEqual(parseRoute('/'), { op: 'repository', prefix: [] });
    assert.deepEqual(parseRoute('/host-a/'), { op: 'repository', prefix: ['host-a'] });
    assert.deepEqual(parseRoute('/config'), {
      op: 'object',
      prefix: [],
      kind: 'config',
      name: 'config',
    });
    assert.deepEqual(parseRoute(`/a/b/pack/${id}`), {
      op: 'object',
      prefix: ['a', 'b'],
      kind: 'pack',
      name: id,
    });
    assert.deepEqual(parseRoute('/a/snapshot/'), { op: 'list', prefix: ['a'], kind: 'snapshot' });
  });

  void it('rejects traversal, odd names, reserved segments and encoded characters', () => {
    for (const path of [
      'config',
      '/../config',
      '/a/../config',
      '/a//config',
      `/pack/${id.toUpperCase()}`,
      `/pack/${id}.tmp`,
      '/data/config',
      '/keys/',
      '/pack/config',
      '/%2e%2e/config',
      `/${'x/'.repeat(9)}config`,
      '/.hidden/config',
    ]) {
      assert.throws(
        () => parseRoute(path),
        (e) => isHoldfastError(e, 'USAGE'),
        path,
      );
    }
  });
});
