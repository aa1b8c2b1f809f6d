import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { BlobId, PackId } from '../../core/index.js';
import { encodeIndexFile, openIndexFile, type PackEntry } from '../format/index.js';
import { MasterIndex, type BlobLocation } from './master-index.js';

const idOf = (n: number): BlobId => createHash('sha256').update(String(n)).digest('hex') as BlobId;

void test('lookup returns what was added; first location wins for duplicates', () => {
  const index = new MasterIndex();
  const e: PackEntry = {
    type: 'tree',
    id: idOf(1),
    offset: 10,
    length: 20,
    rawLength: 300,
    compression: 1,
  };
  index.addPack('a'.repeat(64) as PackId, [e]);
  index.addPack('b'.repeat(64) as PackId, [{ ...e, offset: 99 }]);
  assert.deepEqual(index.lookup(idOf(1)), {
    packId: 'a'.repeat(64),
    type: 'tree',
    offset: 10,
    length: 20,
    rawLength: 300,
    compression: 1,
  });
  assert.equal(index.has(idOf(2)), false);
  assert.equal(index.size, 1);
  assert.equal(index.packCount, 2);
});

void test('one million blobs: all found, none invented, memory per blob within the stated budget', () => {
  const index = new MasterIndex();
  const n = 1_000_000;
  const batch: PackEntry[] = [];
  for (let i = 0; i < n; i++) {
    batch.push({
      type: 'data',
      id: idOf(i),
      offset: i,
      length: 1000,
      rawLength: i % 1_000_000,
      compression: 0,
    });
    if (batch.length === 10_000) {
      index.addPack(idOf(-i) as unknown as PackId, batch.splice(0));
    }
  }
  assert.equal(index.size, n);
  for (let i = 0; i < n; i += 997) assert.equal(index.lookup(idOf(i))?.offset, i);
  for (let i = n; i < n + 1000; i++) assert.equal(index.has(idOf(i)), false);
  const grown = index.memoryBytes() / n;
  // Grown entry by entry: at most the hash table's 36 B + 10.7 B of slots + 16 B of spare room
  // for the entries not compacted yet, and 14 B of key + 16 B of location for the others.
  assert.ok(grown <= 59, `memory per blob ${grown.toFixed(1)} B before compacting`);
  index.compact();
  for (let i = 0; i < n; i += 997) assert.equal(index.lookup(idOf(i))?.offset, i);
  for (let i = n; i < n + 1000; i++) assert.equal(index.has(idOf(i)), false);
  // Compacted: 14 B of key and 3 (offset) + 2 (length) + 3 (raw length word) + 1 (pack) bytes
  // of location, a 256 KiB directory, and the pack table.
  const compacted = index.memoryBytes() / n;
  assert.ok(compacted <= 14 + 9 + 0.3 + 0.1, `memory per blob ${compacted.toFixed(1)} B compacted`);
});

/** A 64-hex-digit id whose first bytes are `head` and whose byte 15 (the key's last) is `last`. */
function craftedId(head: number[], last: number, rest = 0): BlobId {
  const b = Buffer.alloc(32, 0xab);
  b.set(head, 0);
  b[15] = last;
  b.writeUInt32BE(rest, 20);
  return b.toString('hex') as BlobId;
}

const entryFor = (id: BlobId, offset: number): PackEntry => ({
  type: offset % 2 ? 'tree' : 'data',
  id,
  offset,
  length: 100 + offset,
  rawLength: 1000 + offset,
  compression: offset % 3 ? 1 : 0,
});

/** The location `entryFor(id, offset)` gives in `packId`. */
function located(id: BlobId, offset: number, packId: string): BlobLocation {
  const { type, length, rawLength, compression } = entryFor(id, offset);
  return { packId: packId as PackId, type, offset, length, rawLength, compression };
}

void test('keys that share their first 15 bytes, and buckets, stay apart through compactions', () => {
  const index = new MasterIndex();
  // Same bucket (first two bytes) and same next four bytes: only byte 15 differs, so ordering
  // falls to the whole-key comparison. Added in descending order to make sorting matter.
  const ties = Array.from({ length: 40 }, (_, k) => craftedId([7, 9, 1, 2, 3, 4], 200 - 2 * k));
  // Same bucket, different next four bytes.
  const near = Array.from({ length: 40 }, (_, k) => craftedId([7, 9, 255 - k, 0, 0, 1], 0));
  // Buckets at both ends of the directory.
  const ends = [craftedId([0, 0], 0), craftedId([255, 255, 255, 255, 255, 255], 255)];
  const ids = [...ties, ...near, ...ends];
  const packOf = (k: number) => `${'c'.repeat(62)}${k.toString().padStart(2, '0')}`;
  ids.forEach((id, k) => index.addPack(packOf(k) as PackId, [entryFor(id, k)]));
  index.compact();
  // A second batch merged into the sorted table, interleaving with the first (odd last bytes).
  const more = Array.from({ length: 40 }, (_, k) => craftedId([7, 9, 1, 2, 3, 4], 199 - 2 * k));
  more.forEach((id, k) => index.addPack('d'.repeat(64) as PackId, [entryFor(id, 500 + k)]));
  for (const check of [() => undefined, () => index.compact()]) {
    check();
    assert.equal(index.size, ids.length + more.length);
    ids.forEach((id, k) => assert.deepEqual(index.lookup(id), located(id, k, packOf(k))));
    more.forEach((id, k) => assert.equal(index.lookup(id)?.offset, 500 + k));
    assert.equal(index.has(craftedId([7, 9, 1, 2, 3, 4], 202)), false);
    assert.equal(index.has(craftedId([7, 9, 1, 2, 3, 5], 200)), false);
    assert.equal(index.has(craftedId([0, 0], 1)), false);
  }
});

void test('a relocation wider than the sorted fields keeps every other entry and the new location', () => {
  const index = new MasterIndex();
  const ids = Array.from({ length: 300 }, (_, i) => idOf(i));
  index.addPack(
    'a'.repeat(64) as PackId,
    ids.map((id, i) => entryFor(id, i)),
  );
  index.compact();
  const before = index.memoryBytes();
  // Fits the one-byte pack and two-byte offset fields: written in place.
  index.relocate(ids[5]!, {
    packId: 'a'.repeat(64) as PackId,
    type: 'tree',
    offset: 7,
    length: 107,
    rawLength: 1007,
    compression: 1,
  });
  assert.equal(index.lookup(ids[5]!)?.offset, 7);
  assert.equal(index.memoryBytes(), before);
  // Needs four bytes of offset and length: the table is rebuilt with wider fields.
  const far = {
    packId: 'b'.repeat(64) as PackId,
    type: 'data' as const,
    offset: 2 ** 31,
    length: 2 ** 30,
    rawLength: 2 ** 29,
    compression: 0 as const,
  };
  index.relocate(ids[9]!, far);
  assert.deepEqual(index.lookup(ids[9]!), far);
  assert.equal(index.size, 300);
  ids.forEach((id, i) => {
    if (i !== 5 && i !== 9) assert.deepEqual(index.lookup(id), located(id, i, 'a'.repeat(64)));
  });
});

void test('entries added after a compaction are found before and after the next one', () => {
  const index = new MasterIndex();
  const n = 600_000;
  // Packs of 1000: the hash table reaches the compaction threshold (2^18) more than once.
  for (let p = 0; p < n / 1000; p++)
    index.addPack(
      idOf(-1 - p) as unknown as PackId,
      Array.from({ length: 1000 }, (_, j) => entryFor(idOf(p * 1000 + j), p * 1000 + j)),
    );
  assert.equal(index.size, n);
  assert.equal(index.packCount, n / 1000);
  for (let i = 0; i < n; i += 101) assert.equal(index.lookup(idOf(i))?.offset, i);
  // Duplicates of compacted entries keep their first location.
  index.addPack('e'.repeat(64) as PackId, [entryFor(idOf(3), 999_999)]);
  assert.equal(index.lookup(idOf(3))?.offset, 3);
  assert.equal(index.size, n);
});

void test('entries read in place from an index file index like their objects; duplicates are reported', () => {
  const master = Buffer.alloc(32, 7);
  const packs = Array.from({ length: 5 }, (_, p) => ({
    packId: idOf(-100 - p) as unknown as PackId,
    entries: Array.from({ length: 50 }, (_, j) => entryFor(idOf(p * 50 + j), p * 1000 + j)),
  }));
  // The last pack repeats two blobs of the first at other places.
  const repeated = [entryFor(idOf(3), 77_777), entryFor(idOf(4), 88_888)];
  packs.push({ packId: 'f'.repeat(64) as PackId, entries: repeated });
  const file = openIndexFile(master, encodeIndexFile(master, { supersedes: [], packs }), 'i');
  const fromRecords = new MasterIndex();
  const duplicates: [PackEntry, BlobLocation][] = [];
  file.eachPack((packId, records) =>
    fromRecords.addPackRecords(packId, records, (e, first) => duplicates.push([e, first])),
  );
  const fromObjects = new MasterIndex();
  for (const p of packs) fromObjects.addPack(p.packId, p.entries);
  assert.equal(fromRecords.size, 250);
  assert.equal(fromRecords.packCount, 6);
  for (let i = 0; i < 250; i++)
    assert.deepEqual(fromRecords.lookup(idOf(i)), fromObjects.lookup(idOf(i)));
  assert.deepEqual(duplicates, [
    [repeated[0], fromObjects.lookup(idOf(3))],
    [repeated[1], fromObjects.lookup(idOf(4))],
  ]);
});
