import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { isHoldfastError } from '../core/index.js';
import { cacheRoot } from './cache-flags.js';

void test('the cache root: --no-cache, then --cache-dir, HOLDFAST_CACHE_DIR, XDG, HOME', () => {
  const env = { HOLDFAST_CACHE_DIR: '/env/cache', XDG_CACHE_HOME: '/xdg', HOME: '/home/u' };
  assert.equal(cacheRoot({ cache: false, cacheDir: '/flag' }, env), undefined);
  assert.equal(cacheRoot({ cacheDir: 'rel/dir' }, env), resolve('rel/dir'));
  assert.equal(cacheRoot({ cache: true }, env), '/env/cache');
  assert.equal(cacheRoot({}, { ...env, HOLDFAST_CACHE_DIR: '' }), '/xdg/holdfast');
  // The XDG spec: a relative XDG_CACHE_HOME is ignored.
  assert.equal(
    cacheRoot({}, { XDG_CACHE_HOME: 'xdg', HOME: '/home/u' }),
    '/home/u/.cache/holdfast',
  );
  assert.equal(cacheRoot({}, {}), join(homedir(), '.cache', 'holdfast'));
  assert.throws(
    () => cacheRoot({ cacheDir: '' }, env),
    (e) => isHoldfastError(e, 'USAGE'),
  );
});
