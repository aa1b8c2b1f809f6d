import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CHUNKER_PARAMS, validateChunkerParams } from './index.js';

void test('defaults are 512 KiB / 1 MiB / 8 MiB and valid', () => {
  assert.deepEqual(DEFAULT_CHUNKER_PARAMS, { minSize: 524288, avgSize: 1048576, maxSize: 8388608 });
  assert.equal(validateChunkerParams(DEFAULT_CHUNKER_PARAMS), DEFAULT_CHUNKER_PARAMS);
});

void test('accepts the extremes', () => {
  validateChunkerParams({ minSize: 64, avgSize: 128, maxSize: 256 });
  validateChunkerParams({ minSize: 16 << 20, avgSize: 32 << 20, maxSize: 64 << 20 });
});

void test('rejects bad parameters with CONFIG_INVALID', () => {
  const bad = [
    { minSize: 32, avgSize: 128, maxSize: 256 }, // min below 64 B
    { minSize: 1024, avgSize: 3000, maxSize: 8192 }, // avg not a power of two
    { minSize: 4096, avgSize: 4096, maxSize: 8192 }, // min == avg
    { minSize: 1024, avgSize: 8192, maxSize: 8192 }, // avg == max
    { minSize: 1 << 20, avgSize: 2 << 20, maxSize: 128 << 20 }, // max above 64 MiB
    { minSize: 1024.5, avgSize: 4096, maxSize: 8192 }, // not an integer
  ];
  for (const params of bad) {
    assert.throws(
      () => validateChunkerParams(params),
      { code: 'CONFIG_INVALID' },
      JSON.stringify(params),
    );
  }
});
