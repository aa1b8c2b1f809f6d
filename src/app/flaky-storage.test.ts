/**
 * Backup and restore through slow, flaky storage: a real local repository behind a FaultyStore
 * (random transient failures before and after the inner call, added latency) and the
 * RetryingStore every network backend uses. Nothing may be lost — the snapshot restores byte for
 * byte and check --read-data passes on the healthy store — and memory stays bounded: however
 * slow the store, uploads in flight never exceed the writer's concurrency, so the backup cannot
 * pile packs up in memory.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkRepository, Repository } from '../engine/index.js';
import {
  FaultyStore,
  LocalStore,
  RetryingStore,
  type ObjectKind,
  type ObjectStore,
  type PutOptions,
} from '../storage/index.js';
import { seededBytes } from '../testing/random-data.js';
import { makeTempDir, removeTempDir } from '../testing/temp-dir.js';
import { rsyncDifferences } from '../testing/tree-compare.js';
import { runBackup } from './backup.js';
import { runRestore } from './restore.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PACK_SIZE = 4 * MiB;
const UPLOADS = 2; // BlobWriter's default upload concurrency

/** Records the most pack uploads in flight at once and the bytes they held. */
class PeakPuts {
  inFlight = 0;
  bytes = 0;
  peak = 0;
  peakBytes = 0;

  wrap(store: ObjectStore): ObjectStore {
    const put = store.put.bind(store);
    store.put = async (kind: ObjectKind, name: string, data: Uint8Array, options?: PutOptions) => {
      if (kind !== 'pack') return put(kind, name, data, options);
      this.inFlight++;
      this.bytes += data.length;
      this.peak = Math.max(this.peak, this.inFlight);
      this.peakBytes = Math.max(this.peakBytes, this.bytes);
      try {
        await put(kind, name, data, options);
      } finally {
        this.inFlight--;
        this.bytes -= data.length;
      }
    };
    return store;
  }
}

void describe('backup and restore through slow, flaky storage', () => {
  let tmp = '';
  let src = '';
  before(async () => {
    tmp = await makeTempDir('flaky');
    src = join(tmp, 'src');
    await mkdir(join(src, 'small'), { recursive: true });
    for (let i = 0; i < 6; i++)
      await writeFile(join(src, `big-${i}`), seededBytes(5 * MiB + i * 4099, `flaky-${i}`));
    for (let i = 0; i < 300; i++)
      await writeFile(join(src, 'small', `s${i}`), seededBytes(i * 37, `small-${i}`));
  });
  after(async () => {
    await removeTempDir(tmp);
  });

  void it('loses nothing and keeps uploads bounded', async (t) => {
    const path = join(tmp, 'repo');
    const faulty = new FaultyStore(new LocalStore(path), {
      seed: 7,
      latencyMs: 15,
      rules: [
        { operation: 'put', probability: 0.25 },
        // Stored, then reported failed: the retry must recognise its own upload.
        { operation: 'put', probability: 0.2, when: 'after' },
        { operation: 'get', probability: 0.15 },
        { operation: 'stat', probability: 0.1 },
        { operation: 'list', probability: 0.2, afterItems: 1 },
      ],
    });
    const peaks = new PeakPuts();
    const store = new RetryingStore(peaks.wrap(faulty), {
      baseDelayMs: 1,
      maxDelayMs: 20,
      maxAttempts: 30,
    });
    const repo = await Repository.init(store, 'pw', {
      owner: { username: 'u', hostname: 'h' },
      kdfCost: { N: 1024, r: 8, p: 1 },
      packSize: PACK_SIZE,
      chunker: { minSize: 64 * KiB, avgSize: 256 * KiB, maxSize: 1 * MiB },
    });
    const outcome = await runBackup({ repo, paths: [src], hostname: 'h' });
    assert.deepEqual(outcome.errors, []);
    assert.ok(outcome.snapshotId);
    const duringBackup = faulty.injected;
    assert.ok(duringBackup >= 5, `only ${duringBackup} faults injected during the backup`);

    // Bounded: each upload holds one pack (a little over PACK_SIZE), at most UPLOADS at once.
    assert.ok(peaks.peak <= UPLOADS, `${peaks.peak} pack uploads in flight`);
    assert.ok(peaks.peakBytes <= UPLOADS * (PACK_SIZE + 2 * MiB), `${peaks.peakBytes} bytes`);

    // Restored through flaky storage of its own: the first reads fail for sure (a restore reads
    // packs in a few large ranges, so random faults alone might miss it), later ones at random.
    const restoreFaults = new FaultyStore(new LocalStore(path), {
      seed: 11,
      latencyMs: 15,
      rules: [
        { operation: 'get', calls: [1, 2, 4, 7, 11] },
        { operation: 'get', probability: 0.2 },
        { operation: 'list', probability: 0.2, afterItems: 1 },
      ],
    });
    const reader = await Repository.open(
      new RetryingStore(restoreFaults, { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 30 }),
      'pw',
    );
    const [snapshot] = await reader.listSnapshots();
    const target = join(tmp, 'restored');
    const restored = await runRestore({ repo: reader, snapshot: snapshot!, target });
    assert.deepEqual(restored.errors, []);
    assert.ok(restoreFaults.injected >= 5, `${restoreFaults.injected} faults during the restore`);
    assert.equal(await rsyncDifferences(`${src}/`, `${join(target, src)}/`), '');

    // The repository itself, read without faults, is complete and consistent.
    const healthy = await Repository.open(new LocalStore(path), 'pw');
    const check = await checkRepository({ repo: healthy, readData: true });
    assert.deepEqual(check.errors, []);
    assert.deepEqual(check.warnings, []);
    t.diagnostic(
      `${duringBackup} faults during the backup, ${restoreFaults.injected} during the restore; peak ${peaks.peak} uploads, ${peaks.peakBytes} bytes`,
    );
  });
});
