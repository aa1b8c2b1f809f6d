import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isHoldfastError } from '../core/index.js';
import { baseUrl, parseListenAddress } from './listen-address.js';

void it('parses listen addresses and prints client URLs', () => {
  assert.deepEqual(parseListenAddress(':8000'), { host: undefined, port: 8000 });
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:443'), { host: '::1', port: 443 });
  for (const bad of ['8000', 'host', ':70000', '[::1]', 'a:b:1'])
    assert.throws(
      () => parseListenAddress(bad),
      (e) => isHoldfastError(e, 'USAGE'),
      bad,
    );
  assert.equal(baseUrl('https', '::1', 8443), 'https://[::1]:8443/');
  assert.equal(baseUrl('http', '127.0.0.1', 8000), 'http://127.0.0.1:8000/');
});
