import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRetentionDuration, parseRetentionDuration } from './retention-duration.js';

void describe('retention durations (restic syntax)', () => {
  void it('parses and formats y, m, d, h in restic order', () => {
    const d = parseRetentionDuration('4h3d2m1y');
    assert.deepEqual(d, { years: 1, months: 2, days: 3, hours: 4 });
    assert.equal(formatRetentionDuration(d), '1y2m3d4h');
    assert.equal(formatRetentionDuration(parseRetentionDuration('1d2h')), '1d2h');
    assert.equal(formatRetentionDuration(parseRetentionDuration('')), '');
  });

  void it('refuses other units, missing units and negative numbers', () => {
    for (const bad of ['5', '1w', '1d 2h', '-1d', 'd'])
      assert.throws(() => parseRetentionDuration(bad), { code: 'USAGE' }, bad);
  });
});
