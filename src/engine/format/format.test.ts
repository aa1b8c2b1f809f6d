import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isHoldfastError, type BlobId, type IndexId, type PackId } from '../../core/index.js';
import { decodeIndexFile, encodeIndexFile, openIndexFile } from './index-file.js';
import { IndexRecords } from './index-records.js';
import { decodePackHeader, encodePackHeader, openPackHeader } from './pack-header.js';
import type { PackEntry } from './pack-entry.js';
import { openFile, sealFile } from './sealed-file.js';
import { decodeTree, encodeTree, type Node } from './tree.js';

const master = randomBytes(32);
const id = (n: number): string => n.toString(16).padStart(64, '0');

function entries(count: number): PackEntry[] {
  let offset = 0;
  return Array.from({ length: count }, (_, i) => {
    const e: PackEntry = {
      type: i % 2 ? 'tree' : 'data',
      id: id(i + 1) as BlobId,
      offset,
      length: 100 + i,
      rawLength: 1000 + i,
      compression: i % 2 ? 1 : 0,
    };
    offset += e.length;
    return e;
  });
}

void test('sealed files refuse to open as another kind', () => {
  const sealed = sealFile(master, 'snapshot', Buffer.from('{}'));
  assert.deepEqual(openFile(master, 'snapshot', sealed, 's'), Buffer.from('{}'));
  assert.throws(
    () => openFile(master, 'index', sealed, 's'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
  const future = Buffer.from(sealed);
  future[0] = 9;
  assert.throws(
    () => openFile(master, 'snapshot', future, 's'),
    (e) => isHoldfastError(e, 'UNSUPPORTED_FORMAT'),
  );
});

void test('pack header round trip recomputes offsets from lengths', () => {
  const list = entries(5);
  const blobsLength = list.reduce((n, e) => n + e.length, 0);
  const header = encodePackHeader(master, list);
  const pack = Buffer.concat([Buffer.alloc(blobsLength), header]);
  assert.deepEqual(decodePackHeader(master, pack, pack.length, 'p'), list);
  assert.throws(
    () => decodePackHeader(master, pack, pack.length + 1, 'p'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
});

void test('an opened pack header finds an entry by offset and id bytes, as the index lists it', () => {
  const list = entries(6);
  const blobsLength = list.reduce((n, e) => n + e.length, 0);
  const pack = Buffer.concat([Buffer.alloc(blobsLength), encodePackHeader(master, list)]);
  const header = openPackHeader(master, pack, pack.length, 'p');
  const records = IndexRecords.encode(list);
  assert.equal(header.count, 6);
  for (let i = 0; i < list.length; i++) {
    assert.deepEqual(header.entry(i), list[i]);
    assert.equal(header.lists(records.bytes, records.idAt(i), list[i]!.offset), true);
    // The right id at another entry's offset, and an offset no entry starts at: not listed.
    const elsewhere = list[(i + 1) % list.length]!.offset;
    assert.equal(header.lists(records.bytes, records.idAt(i), elsewhere), false);
    assert.equal(header.lists(records.bytes, records.idAt(i), list[i]!.offset + 1), false);
  }
  // A forged header with entries of length 0: they share an offset, each is still found.
  const forged = [0, 0, 5].map((length, i) => ({ ...list[i]!, length, offset: 0 }));
  forged[2] = { ...forged[2]!, offset: 0 };
  const forgedPack = Buffer.concat([Buffer.alloc(5), encodePackHeader(master, forged)]);
  const opened = openPackHeader(master, forgedPack, forgedPack.length, 'p');
  const forgedRecords = IndexRecords.encode(forged);
  for (let i = 0; i < 3; i++)
    assert.equal(opened.lists(forgedRecords.bytes, forgedRecords.idAt(i), 0), true, `entry ${i}`);
});

void test('index records joined into a buffer of their own read back the same entries', () => {
  const [a, b] = [entries(3), entries(2).map((e) => ({ ...e, id: id(50 + e.length) as BlobId }))];
  const joined = IndexRecords.join([IndexRecords.encode(a), IndexRecords.encode(b)]);
  assert.equal(joined.bytes.byteOffset, 0);
  assert.equal(joined.bytes.buffer.byteLength, joined.bytes.length, 'nothing else in its memory');
  const sent = IndexRecords.of(new Uint8Array(joined.bytes));
  assert.deepEqual(
    Array.from({ length: sent.count }, (_, i) => sent.entry(i)),
    [...a, ...b],
  );
  assert.equal(sent.id(4), b[1]!.id);
});

void test('index file round trip with supersedes, and truncation is detected', () => {
  const content = {
    supersedes: [id(77) as IndexId],
    packs: [
      { packId: id(9) as PackId, entries: entries(3) },
      { packId: id(10) as PackId, entries: [] },
    ],
  };
  const bytes = encodeIndexFile(master, content);
  assert.deepEqual(decodeIndexFile(master, bytes, 'i'), { ...content, deletions: [] });
  const withDeletions = {
    ...content,
    deletions: [{ packs: [id(3) as PackId], sessions: ['ab'.repeat(16)] }],
  };
  assert.deepEqual(
    decodeIndexFile(master, encodeIndexFile(master, withDeletions), 'i'),
    withDeletions,
  );
  assert.throws(
    () => decodeIndexFile(master, bytes.subarray(0, bytes.length - 1), 'i'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
});

void test('packs with their entries kept encoded are written as the same entries', () => {
  const kept = entries(7);
  const records = IndexRecords.encode(kept);
  assert.equal(records.count, 7);
  assert.deepEqual(
    Array.from({ length: 7 }, (_, i) => records.entry(i)),
    kept,
  );
  const packs = [
    { packId: id(9) as PackId, entries: entries(3) },
    { packId: id(10) as PackId, records },
    { packId: id(11) as PackId, records: IndexRecords.encode([]) },
  ];
  const decoded = decodeIndexFile(master, encodeIndexFile(master, { supersedes: [], packs }), 'i');
  assert.deepEqual(decoded.packs, [
    { packId: id(9), entries: entries(3) },
    { packId: id(10), entries: kept },
    { packId: id(11), entries: [] },
  ]);
});

void test('an opened index file gives counts and supersedes, checks everything, decodes alike', () => {
  const content = {
    supersedes: [id(77) as IndexId, id(78) as IndexId],
    packs: [
      { packId: id(9) as PackId, entries: entries(3) },
      { packId: id(10) as PackId, entries: entries(5) },
    ],
    deletions: [{ packs: [id(3) as PackId], sessions: ['cd'.repeat(16)] }],
  };
  const bytes = encodeIndexFile(master, content);
  const opened = openIndexFile(master, bytes, 'i');
  assert.deepEqual(opened.supersedes, content.supersedes);
  assert.equal(opened.packCount, 2);
  assert.equal(opened.entryCount, 8);
  assert.deepEqual(opened.decode(), decodeIndexFile(master, bytes, 'i'));
  assert.deepEqual(opened.decode(), content);
  // Damage inside the entries is found when the file is opened, not later when it is decoded:
  // an entry's type code of 7 in a file sealed with the right key.
  const plain = openFile(master, 'index', bytes, 'i');
  const entryAt = 1 + 4 + 2 * 32 + 4 + 36;
  plain[entryAt] = 7;
  assert.throws(
    () => openIndexFile(master, sealFile(master, 'index', plain), 'i'),
    (e) => isHoldfastError(e, 'INTEGRITY') && /bad entry in pack 0+9\b/.test((e as Error).message),
  );
  assert.throws(
    () => openIndexFile(master, bytes.subarray(0, bytes.length - 1), 'i'),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
});

void test('trees encode to the exact bytes of the format (key order, optional fields, raw bytes)', () => {
  // The encoding names the tree (its blob id): the same directory must encode to the same bytes
  // in every version, or unchanged directories would stop deduplicating against old snapshots.
  const base = {
    mode: 0o644,
    uid: 1000,
    gid: 100,
    mtimeNs: 1700000000123456789n,
    atimeNs: 1700000001000000000n,
    ctimeNs: 1700000002000000007n,
    inode: 42n,
    deviceId: 2049n,
    links: 1,
  };
  const nodes: Node[] = [
    {
      ...base,
      name: Buffer.from('a.txt'),
      type: 'file',
      user: 'alice',
      group: 'staff',
      size: 5,
      content: [id(1) as BlobId, id(2) as BlobId],
      sparse: true,
      xattrs: [{ name: Buffer.from('user.k'), value: Buffer.from([0, 255]) }],
    },
    { ...base, name: Buffer.from('dev'), type: 'chardev', rdev: 259n },
    {
      ...base,
      name: Buffer.from('dir'),
      type: 'dir',
      user: 'alice',
      subtree: id(3) as BlobId,
      links: 2,
    },
    {
      ...base,
      name: Buffer.from([0x6c, 0xff]),
      type: 'symlink',
      group: 'staff',
      linkTarget: Buffer.from([0x2f, 0xfe]),
    },
    { ...base, name: Buffer.from('link'), type: 'symlink', linkTarget: Buffer.from('../a.txt') },
  ];
  const expected =
    '{"nodes":[' +
    [
      '{"name":"a.txt","type":"file","mode":420,"uid":1000,"gid":100,"user":"alice","group":"staff","mtime_ns":"1700000000123456789","atime_ns":"1700000001000000000","ctime_ns":"1700000002000000007","inode":"42","device_id":"2049","links":1,"size":5,"content":["0000000000000000000000000000000000000000000000000000000000000001","0000000000000000000000000000000000000000000000000000000000000002"],"sparse":true,"xattrs":[{"name":"user.k","value":"AP8="}]}',
      '{"name":"dev","type":"chardev","mode":420,"uid":1000,"gid":100,"mtime_ns":"1700000000123456789","atime_ns":"1700000001000000000","ctime_ns":"1700000002000000007","inode":"42","device_id":"2049","links":1,"rdev":"259"}',
      '{"name":"dir","type":"dir","mode":420,"uid":1000,"gid":100,"user":"alice","mtime_ns":"1700000000123456789","atime_ns":"1700000001000000000","ctime_ns":"1700000002000000007","inode":"42","device_id":"2049","links":2,"subtree":"0000000000000000000000000000000000000000000000000000000000000003"}',
      '{"name_raw":"bP8=","type":"symlink","mode":420,"uid":1000,"gid":100,"group":"staff","mtime_ns":"1700000000123456789","atime_ns":"1700000001000000000","ctime_ns":"1700000002000000007","inode":"42","device_id":"2049","links":1,"link_target_raw":"L/4="}',
      '{"name":"link","type":"symlink","mode":420,"uid":1000,"gid":100,"mtime_ns":"1700000000123456789","atime_ns":"1700000001000000000","ctime_ns":"1700000002000000007","inode":"42","device_id":"2049","links":1,"link_target":"../a.txt"}',
    ].join(',') +
    ']}';
  assert.equal(encodeTree({ nodes }).toString(), expected);
  const decoded = decodeTree(Buffer.from(expected));
  assert.ok('nodes' in decoded);
  assert.deepEqual(decoded.nodes, nodes);
});

void test('trees keep non-UTF-8 names, link targets, xattrs and nanosecond times exactly', () => {
  const node: Node = {
    name: Buffer.from([0x66, 0xff, 0x6f]),
    type: 'symlink',
    mode: 0o777,
    uid: 1234,
    gid: 5678,
    mtimeNs: 1700000000123456789n,
    atimeNs: 1n,
    ctimeNs: 1700000000999999999n,
    inode: 18446744073709551615n,
    deviceId: 2049n,
    links: 1,
    linkTarget: Buffer.from([0x2f, 0xfe]),
    xattrs: [{ name: Buffer.from('user.a'), value: Buffer.from([0, 1, 2]) }],
  };
  const file: Node = {
    ...node,
    name: Buffer.from('plain.txt'),
    type: 'file',
    size: 3,
    content: [id(5) as BlobId],
    sparse: true,
    linkTarget: undefined as never,
  };
  delete (file as { linkTarget?: Buffer }).linkTarget;
  const decoded = decodeTree(encodeTree({ nodes: [node, file] }));
  assert.ok('nodes' in decoded);
  assert.deepEqual(decoded.nodes, [node, file]);
  assert.deepEqual(decodeTree(encodeTree({ parts: [id(1) as BlobId] })), { parts: [id(1)] });
  assert.throws(
    () => decodeTree(Buffer.from('{"nodes":[{"type":"file"}]}')),
    (e) => isHoldfastError(e, 'INTEGRITY'),
  );
});
