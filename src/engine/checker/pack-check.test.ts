/**
 * checkPackFrom reads a pack a window at a time: blobs that straddle window boundaries, a blob
 * larger than a window, damage, a pack cut short and a forged index entry must all come out as
 * they do when the whole pack is in memory (checkPack). One PackChecker checks every pack of a
 * test in turn, as a pool's slot does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlobId, PackId } from '../../core/index.js';
import { MemoryStore } from '../../storage/index.js';
import { seededBytes } from '../../storage/testing/seeded-random.js';
import { decodePackHeader, IndexRecords, type PackEntry } from '../format/index.js';
import { Repository } from '../repository/index.js';
import {
  CHECK_WINDOW,
  checkPack,
  checkPackFrom,
  PackChecker,
  type PackCheckOutcome,
  type PackReader,
} from './pack-check.js';

const owner = { username: 'u', hostname: 'h' };
const MiB = 1024 * 1024;

/** One 4 MiB pack of small blobs (17–80 KB) around one blob larger than a window. */
async function onePack(): Promise<{ repo: Repository; packId: PackId; bytes: Buffer }> {
  const store = new MemoryStore();
  const repo = await Repository.init(store, 'pw', {
    owner,
    kdfCost: { N: 1024, r: 8, p: 1 },
    packSize: 4 * MiB,
    compression: 'auto',
  });
  const writer = repo.writer();
  let stored = 0;
  for (let i = 0; stored < 3.5 * MiB; i++) {
    const size = i === 20 ? CHECK_WINDOW + 300_000 : 17_000 + ((i * 7919) % 63_000);
    // Some compressible, so both kinds of blob are opened; the random ones fill the pack.
    const random = i % 4 !== 1;
    await writer.save('data', random ? seededBytes(i, size) : Buffer.alloc(size, i % 251));
    if (random) stored += size;
  }
  await writer.flush();
  const packs: PackId[] = [];
  for await (const info of store.list('pack')) packs.push(info.name as PackId);
  assert.equal(packs.length, 1, 'one pack');
  return { repo, packId: packs[0]!, bytes: await store.get('pack', packs[0]!) };
}

/** A reader like the pool's: every view is of one buffer that the next read overwrites. */
function reusingReader(bytes: Buffer): { read: PackReader; largest: () => number } {
  let buffer = Buffer.alloc(0);
  let largest = 0;
  const read: PackReader = async (offset, length) => {
    await Promise.resolve();
    largest = Math.max(largest, length);
    if (buffer.length < length) buffer = Buffer.alloc(length);
    buffer.fill(0xa5);
    // Past the end a read comes back empty, as readSync does.
    const n = offset >= bytes.length ? 0 : bytes.copy(buffer, 0, offset, offset + length);
    return buffer.subarray(0, n);
  };
  return { read, largest: () => largest };
}

const checkers = new Map<Repository, PackChecker>();
function checkerOf(repo: Repository): PackChecker {
  let checker = checkers.get(repo);
  if (checker === undefined) checkers.set(repo, (checker = new PackChecker(repo.blobKeys())));
  return checker;
}

/** checkPackFrom over `read`, with `entries` encoded as an index holds them. */
function checkThrough(
  repo: Repository,
  packId: PackId,
  size: number,
  read: PackReader,
  entries: readonly PackEntry[],
): Promise<PackCheckOutcome> {
  return checkPackFrom(checkerOf(repo), packId, size, read, IndexRecords.encode(entries));
}

function entriesOf(repo: Repository, bytes: Buffer): PackEntry[] {
  return decodePackHeader(repo.masterKeyForCheck(), bytes, bytes.length, 'pack');
}

void describe('checking a pack a window at a time', () => {
  void it('opens every blob of a sound pack, reading no more than a window or a blob at once', async () => {
    const { repo, packId, bytes } = await onePack();
    const entries = entriesOf(repo, bytes);
    const straddling = entries.filter(
      (e) =>
        Math.floor(e.offset / CHECK_WINDOW) !== Math.floor((e.offset + e.length) / CHECK_WINDOW),
    );
    assert.ok(straddling.length >= 2, 'blobs across window boundaries');
    const largestBlob = Math.max(...entries.map((e) => e.length));
    assert.ok(largestBlob > CHECK_WINDOW);
    const reader = reusingReader(bytes);
    const outcome = await checkThrough(repo, packId, bytes.length, reader.read, entries);
    assert.deepEqual(outcome, { problems: [], damaged: [], blobsChecked: entries.length });
    // Less than the pack: a whole-pack read would be all of it.
    assert.ok(
      reader.largest() <= largestBlob,
      `largest read ${reader.largest()} of ${bytes.length}`,
    );
  });

  void it('names the damaged blob that straddles a window boundary, and checks the rest', async () => {
    const { repo, packId, bytes } = await onePack();
    const entries = entriesOf(repo, bytes);
    const hit = entries.find(
      (e) => e.offset < 2 * CHECK_WINDOW && e.offset + e.length > 2 * CHECK_WINDOW,
    )!;
    const damagedBytes = Buffer.from(bytes);
    damagedBytes[2 * CHECK_WINDOW + 1]! ^= 0xff;
    const outcome = await checkThrough(
      repo,
      packId,
      bytes.length,
      reusingReader(damagedBytes).read,
      entries,
    );
    assert.deepEqual(outcome.damaged, [hit.id]);
    assert.deepEqual(
      outcome.problems.map((p) => p.object),
      [`pack ${packId}`, `blob ${hit.id}`],
    );
    assert.match(outcome.problems[0]!.message, /does not match its name/);
    assert.deepEqual(
      outcome,
      await checkPack(checkerOf(repo), packId, damagedBytes, IndexRecords.encode(entries)),
    );
  });

  void it('a pack cut short: the blobs read are checked, the rest and the header reported', async () => {
    const { repo, packId, bytes } = await onePack();
    const entries = entriesOf(repo, bytes);
    const cut = 2 * CHECK_WINDOW + 12_345;
    // The size taken before the file shrank: reads past `cut` come back short.
    const reader = reusingReader(bytes.subarray(0, cut));
    const outcome = await checkThrough(repo, packId, bytes.length, reader.read, entries);
    const lost = entries.filter((e) => e.offset + e.length > cut).map((e) => e.id);
    assert.ok(lost.length > 0 && lost.length < entries.length);
    assert.deepEqual([...outcome.damaged].sort(), [...lost].sort());
    const packProblems = outcome.problems.filter((p) => p.object === `pack ${packId}`);
    assert.equal(packProblems.length, 2, JSON.stringify(packProblems));
    assert.equal(outcome.blobsChecked, entries.length);
  });

  void it('a forged entry (overlapping, absurd length) is reported without sizing a read by it', async () => {
    const { repo, packId, bytes } = await onePack();
    const entries = entriesOf(repo, bytes);
    const forged: PackEntry = {
      ...entries[3]!,
      id: 'f'.repeat(64) as BlobId,
      offset: entries[3]!.offset + 10,
      length: 0xffff_fff0,
    };
    const reader = reusingReader(bytes);
    const outcome = await checkThrough(repo, packId, bytes.length, reader.read, [
      ...entries,
      forged,
    ]);
    assert.deepEqual(outcome.damaged, [forged.id]);
    assert.ok(reader.largest() <= bytes.length);
    assert.deepEqual(
      outcome.problems.map((p) => p.object),
      [`pack ${packId}`, `blob ${forged.id}`],
    );
    assert.match(outcome.problems[0]!.message, /header does not/);
  });
});
