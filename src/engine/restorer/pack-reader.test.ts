import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlobId, PackId } from '../../core/index.js';
import {
  coalesce,
  LOCAL_RANGE,
  MAX_GAP,
  MAX_RANGE,
  packedStarts,
  segmentsOf,
  type WantedBlob,
} from './pack-reader.js';

const KiB = 1024;

function blob(n: number, offset: number, length: number): WantedBlob {
  return {
    id: n.toString(16).padStart(64, '0') as BlobId,
    loc: {
      packId: 'a'.repeat(64) as PackId,
      type: 'data',
      offset,
      length,
      rawLength: length,
      compression: 0,
    },
  };
}

void describe('pack reads', () => {
  void it('reads only the parts of a range that hold its blobs (segmentsOf)', () => {
    // In pack order: 0–10 KiB, 12–20 KiB (2 KiB gap), 200–210 KiB (180 KiB gap), 211–300 KiB.
    const blobs = [
      blob(3, 200 * KiB, 10 * KiB),
      blob(1, 0, 10 * KiB),
      blob(4, 211 * KiB, 89 * KiB),
      blob(2, 12 * KiB, 8 * KiB),
    ];
    const [range, ...more] = coalesce(blobs);
    assert.equal(more.length, 0, 'one range: every gap is below MAX_GAP');
    assert.ok(180 * KiB < MAX_GAP);
    assert.deepEqual(segmentsOf(range!, 64 * KiB), [
      [0, 20 * KiB],
      [200 * KiB, 100 * KiB],
    ]);
    assert.deepEqual(segmentsOf(range!, 0), [
      [0, 10 * KiB],
      [12 * KiB, 8 * KiB],
      [200 * KiB, 10 * KiB],
      [211 * KiB, 89 * KiB],
    ]);
    // Relative to the range's start, which need not be 0.
    const [shifted] = coalesce([blob(5, 4096, 100), blob(6, 4196, 50)]);
    assert.deepEqual(segmentsOf(shifted!, 64 * KiB), [[0, 150]]);
  });
  void it('places each blob where it lands once only the segments are kept (packedStarts)', () => {
    const blobs = [
      blob(1, 0, 10 * KiB),
      blob(2, 12 * KiB, 8 * KiB),
      blob(3, 200 * KiB, 10 * KiB),
      blob(4, 211 * KiB, 89 * KiB),
    ];
    const [range] = coalesce(blobs);
    // Segments [0, 20 KiB) and [200 KiB, 300 KiB): the second starts at 20 KiB once packed.
    const joined = segmentsOf(range!, 64 * KiB);
    assert.deepEqual(packedStarts(range!, joined), [0, 12 * KiB, 20 * KiB, 31 * KiB]);
    // Each blob its own segment: packed end to end.
    const apart = segmentsOf(range!, 0);
    assert.deepEqual(packedStarts(range!, apart), [0, 10 * KiB, 18 * KiB, 28 * KiB]);
    const [shifted] = coalesce([blob(5, 4096, 100), blob(6, 8192, 50)]);
    assert.deepEqual(packedStarts(shifted!, segmentsOf(shifted!, 0)), [0, 100]);
  });
  void it('joins blobs up to the range bound it is given, a larger blob alone', () => {
    const MiB = 1024 * KiB;
    // 12 blobs of 1 MiB back to back, then one of 5 MiB.
    const blobs = Array.from({ length: 12 }, (_, i) => blob(i + 1, i * MiB, MiB));
    blobs.push(blob(99, 12 * MiB, 5 * MiB));
    const spans = (maxRange?: number): number[] =>
      coalesce(blobs, maxRange).map((r) => r.length / MiB);
    assert.equal(MAX_RANGE, 8 * MiB);
    assert.deepEqual(spans(), [8, 4, 5], 'network requests: up to MAX_RANGE');
    assert.equal(LOCAL_RANGE, 2 * MiB);
    assert.deepEqual(spans(LOCAL_RANGE), [2, 2, 2, 2, 2, 2, 5], 'local reads: up to LOCAL_RANGE');
    for (const maxRange of [undefined, LOCAL_RANGE])
      assert.equal(
        coalesce(blobs, maxRange).reduce((n, r) => n + r.blobs.length, 0),
        13,
        'every blob once',
      );
  });
});
