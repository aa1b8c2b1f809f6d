import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatLsn,
  historyTimeline,
  parseLsn,
  parseSegmentName,
  segmentName,
  segmentOf,
  walFileKind,
} from './lsn.js';

const MiB16 = 16 * 1024 * 1024;

void describe('LSNs and WAL file names', () => {
  void it('parses and formats LSNs as PostgreSQL prints them', () => {
    assert.equal(parseLsn('0/2000028'), 0x2000028n);
    assert.equal(parseLsn('16/b374d848'), (0x16n << 32n) | 0xb374d848n);
    assert.equal(formatLsn((0x16n << 32n) | 0xb374d848n), '16/B374D848');
    assert.throws(() => parseLsn('12345'), /invalid LSN/);
  });

  void it('names segments by timeline and position, for any segment size', () => {
    assert.equal(segmentName(1, segmentOf(0x2000028n, MiB16), MiB16), '000000010000000000000002');
    // 2^32 bytes per "log id": 256 segments of 16 MiB.
    assert.equal(segmentName(3, 256n + 5n, MiB16), '000000030000000100000005');
    assert.equal(segmentName(1, 4096n + 7n, 1 << 20), '000000010000000100000007');
    assert.deepEqual(parseSegmentName('000000030000000100000005', MiB16), {
      timeline: 3,
      segno: 261n,
    });
    assert.deepEqual(parseSegmentName('000000020000000000000009.partial', MiB16), {
      timeline: 2,
      segno: 9n,
    });
    assert.equal(parseSegmentName('00000002.history', MiB16), undefined);
  });

  void it('classifies the files an archive holds', () => {
    assert.equal(walFileKind('000000010000000000000002'), 'segment');
    assert.equal(walFileKind('000000010000000000000002.partial'), 'partial');
    assert.equal(walFileKind('0000000A.history'), 'history');
    assert.equal(walFileKind('000000010000000000000002.00000028.backup'), 'backup');
    for (const bad of [
      'RECOVERYXLOG',
      '00000001000000000000002',
      '../000000010000000000000002',
      'archive_status',
    ])
      assert.equal(walFileKind(bad), undefined, bad);
    assert.equal(historyTimeline('0000000A.history'), 10);
  });
});
