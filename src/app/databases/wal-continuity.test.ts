import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimelineHistory, segmentName } from '../../sources/index.js';
import {
  baseFitsPath,
  timelinePath,
  timelineProblems,
  walContinuity,
  type ArchivedSegment,
} from './wal-continuity.js';

const SIZE = 16 * 1024 * 1024;
const seg = (tli: number, segno: number): ArchivedSegment => ({
  name: segmentName(tli, BigInt(segno), SIZE),
  timeline: tli,
  segno: BigInt(segno),
  time: `2024-01-01T00:00:${String(segno).padStart(2, '0')}Z`,
});
const archive = (list: ArchivedSegment[]): Map<string, ArchivedSegment> =>
  new Map(list.map((s) => [s.name, s]));
// Timeline 2 branched from 1 inside segment 5 (at 0/50000A0).
const histories = new Map([[2, parseTimelineHistory('1\t0/50000A0\tbefore 2024-01-01\n')]]);

void describe('WAL continuity', () => {
  void it('follows timeline 1, then timeline 2 from the switch segment on', () => {
    const path = timelinePath(2, histories)!;
    const segments = archive([
      seg(1, 2),
      seg(1, 3),
      seg(1, 4),
      seg(1, 5),
      seg(1, 6),
      seg(2, 5),
      seg(2, 6),
      seg(2, 7),
    ]);
    const c = walContinuity({ path, baseStopLsn: 0x2000100n, segments, segmentSize: SIZE });
    assert.equal(c.from, '000000010000000000000002');
    assert.equal(c.newest?.name, '000000020000000000000007');
    assert.deepEqual(c.gaps, []);
    assert.equal(c.recoverableLsn, 8n * BigInt(SIZE));
    // Timeline 1 goes on on its own (the old primary kept running).
    const one = walContinuity({
      path: timelinePath(1, histories)!,
      baseStopLsn: 0x2000100n,
      segments,
      segmentSize: SIZE,
    });
    assert.equal(one.newest?.name, '000000010000000000000006');
  });

  void it('reports gaps and stops the recoverable point before the first', () => {
    const path = timelinePath(1, histories)!;
    const segments = archive([seg(1, 2), seg(1, 3), seg(1, 6), seg(1, 9)]);
    const c = walContinuity({ path, baseStopLsn: 0x2000100n, segments, segmentSize: SIZE });
    assert.deepEqual(c.gaps, [
      { first: '000000010000000000000004', last: '000000010000000000000005', count: 2 },
      { first: '000000010000000000000007', last: '000000010000000000000008', count: 2 },
    ]);
    assert.equal(c.lastContinuous?.name, '000000010000000000000003');
    assert.equal(c.recoverableLsn, 4n * BigInt(SIZE));
  });

  void it('without WAL after the backup, recovery reaches the backup end', () => {
    const c = walContinuity({
      path: timelinePath(1, histories)!,
      baseStopLsn: 0x2000100n,
      segments: new Map(),
      segmentSize: SIZE,
    });
    assert.equal(c.newest, undefined);
    assert.equal(c.recoverableLsn, 0x2000100n);
  });

  void it('a base backup fits a timeline when it ended before the branch', () => {
    const path = timelinePath(2, histories)!;
    assert.ok(baseFitsPath(1, 0x3000000n, path));
    assert.ok(!baseFitsPath(1, 0x6000000n, path));
    assert.ok(baseFitsPath(2, 0x6000000n, path));
    assert.ok(!baseFitsPath(3, 0x6000000n, path));
    assert.equal(timelinePath(3, histories), undefined);
  });

  void it('finds timelines without history and histories that disagree', () => {
    const h = new Map([
      [2, parseTimelineHistory('1\t0/5000000\tx\n')],
      [3, parseTimelineHistory('1\t0/4000000\tx\n2\t0/6000000\ty\n')],
    ]);
    assert.deepEqual(timelineProblems(h, new Set([1, 2, 3, 4])), [
      'timeline 4 has WAL but 00000004.history is not in the archive',
      '00000003.history does not continue 00000002.history',
    ]);
    assert.deepEqual(timelineProblems(histories, new Set([1, 2])), []);
  });
});
