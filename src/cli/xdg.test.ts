import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { test } from 'node:test';
import { cacheRoot } from './cache-flags.js';
import { defaultRepository } from './context.js';

void test('the default repository: $XDG_DATA_HOME if absolute, else below $HOME', () => {
  assert.equal(
    defaultRepository({ XDG_DATA_HOME: '/data', HOME: '/home/u' }),
    '/data/holdfast/repository',
  );
  // Unset, empty (`XDG_DATA_HOME= holdfast …`) or relative: ignored, as the spec says.
  for (const XDG_DATA_HOME of [undefined, '', 'data'])
    assert.equal(
      defaultRepository({ XDG_DATA_HOME, HOME: '/home/u' }),
      '/home/u/.local/share/holdfast/repository',
      `XDG_DATA_HOME=${XDG_DATA_HOME}`,
    );
  assert.equal(
    defaultRepository({ HOME: '' }),
    `${homedir()}/.local/share/holdfast/repository`,
    'an empty HOME is the account home',
  );
});

void test('the cache root ignores an empty XDG_CACHE_HOME', () => {
  assert.equal(cacheRoot({}, { XDG_CACHE_HOME: '', HOME: '/home/u' }), '/home/u/.cache/holdfast');
});
