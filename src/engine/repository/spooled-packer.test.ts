/**
 * SpooledPacker under BlobWriter, on this machine's disk and a local repository: packs laid out
 * from the spool hold every blob exactly as sealed, at the offsets their headers give, in an
 * order of their own, named by their bytes; blobs go back to their owners before their pack is
 * stored; nothing stays in the spool; a spool that cannot be written fails the session with an
 * error that says where and what to do.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isHoldfastError, type BlobId } from '../../core/index.js';
import {
  LocalStore,
  type ObjectBody,
  type ObjectKind,
  type PutOptions,
} from '../../storage/index.js';
import { blobCrypto } from '../crypto/index.js';
import { decodePackHeader, sealBlob } from '../format/index.js';
import { PackSpool } from '../spool/pack-spool.js';
import { BlobWriter, type SealedBlob } from './blob-writer.js';

const MiB = 1024 * 1024;
const masterKey = randomBytes(32);
const blobId = (_type: string, plaintext: Uint8Array): BlobId =>
  createHash('sha256').update(plaintext).digest('hex') as BlobId;

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'holdfast-spooled-packer-'))));
after(() => rm(dir, { recursive: true, force: true }));

/** A local store whose pack puts wait until `open()`. */
class GatedStore extends LocalStore {
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  open(): void {
    this.opened();
  }
  override async put(kind: ObjectKind, name: string, data: ObjectBody, o?: PutOptions) {
    if (kind === 'pack') await this.gate;
    return super.put(kind, name, data, o);
  }
}

function sealedBlob(plaintext: Buffer, released: Buffer[]): SealedBlob {
  const id = blobId('data', plaintext);
  return {
    id,
    sealed: sealBlob(masterKey, 'data', id, plaintext),
    rawLength: plaintext.length,
    compressed: false,
    owner: { release: (b) => released.push(b) },
  };
}

void test('packs laid out from the spool hold every blob as sealed, in an order of their own', async () => {
  const spool = (await PackSpool.open([dir]))!;
  const store = new GatedStore(join(dir, 'repo1'));
  await store.create();
  const index = { has: () => false, addPack: () => undefined };
  const packSize = 4 * MiB;
  const writer = new BlobWriter({
    store,
    index,
    masterKey,
    blobId,
    packSize,
    compression: 'off',
    spool,
  });
  // Small blobs, one that fills a stage exactly (1 MiB sealed), larger ones written on their own.
  const sizes = [
    ...Array.from({ length: 300 }, (_, i) => 100 + ((i * 7919) % 9000)),
    MiB - 28,
    3 * MiB,
    2 * MiB + 5,
    ...Array.from({ length: 200 }, (_, i) => 50 + ((i * 104729) % 70_000)),
  ];
  const released: Buffer[] = [];
  const blobs = sizes.map((n) => sealedBlob(randomBytes(n), released));
  // Saves overlap, as a backup's do: packs still close at their target size.
  const saving = Promise.all(blobs.map((b) => writer.saveSealed('data', b)));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(released.length > 0, 'blobs go back to their owners before any pack is stored');
  store.open();
  await saving;
  await writer.flush();
  assert.equal(released.length, blobs.length, 'every blob released once');
  assert.equal(new Set(released).size, blobs.length);

  const bySealed = new Map(blobs.map((b) => [b.id as string, b.sealed]));
  const seen = new Set<string>();
  let packs = 0;
  let reordered = false;
  for await (const { name, size } of store.list('pack')) {
    packs++;
    const pack = await store.get('pack', name);
    assert.equal(createHash('sha256').update(pack).digest('hex'), name, 'named by its bytes');
    const entries = decodePackHeader(masterKey, pack, size, name);
    const blobBytes = entries.reduce((sum, e) => sum + e.length, 0);
    assert.ok(blobBytes < packSize + 3 * MiB, `at most the target and one blob (${blobBytes})`);
    for (const e of entries) {
      assert.ok(!seen.has(e.id), 'each blob once');
      seen.add(e.id);
      assert.ok(
        pack.subarray(e.offset, e.offset + e.length).equals(bySealed.get(e.id)!),
        'as sealed',
      );
    }
    const arrival = entries.map((e) => blobs.findIndex((b) => b.id === e.id));
    if (arrival.some((v, i) => i > 0 && v < arrival[i - 1]!)) reordered = true;
  }
  assert.equal(seen.size, blobs.length, 'every blob stored');
  assert.ok(packs >= 3, `${packs} packs`);
  assert.ok(reordered, 'blobs are not laid out in the order they came');
  assert.deepEqual(await readdir(spool.dir), [], 'nothing left in the spool');
  await spool.close();
});

void test('a spool that cannot be written fails the session, naming it and what to do', async () => {
  const spool = (await PackSpool.open([dir]))!;
  const store = new LocalStore(join(dir, 'repo2'));
  await store.create();
  const index = { has: () => false, addPack: () => undefined };
  const writer = new BlobWriter({
    store,
    index,
    masterKey,
    blobId,
    packSize: 4 * MiB,
    compression: 'off',
    spool,
  });
  await rm(spool.dir, { recursive: true });
  const released: Buffer[] = [];
  const failed = (async () => {
    for (let i = 0; i < 40; i++)
      await writer.saveSealed('data', sealedBlob(randomBytes(200_000), released));
    await writer.flush();
  })();
  await assert.rejects(failed, (e) => {
    assert.ok(isHoldfastError(e, 'FAILURE'), String(e));
    assert.match(e.message, /spool/);
    assert.ok(e.message.includes(spool.dir), e.message);
    assert.match(e.hint ?? '', /TMPDIR/);
    return true;
  });
  const stored: string[] = [];
  for await (const { name } of store.list('pack')) stored.push(name);
  assert.deepEqual(stored, [], 'no pack stored');
});

void test('packFromSpool rejects with the errno of a failed read or write', async () => {
  const path = join(dir, 'short');
  const file = await open(path, 'w+');
  try {
    await file.write(Buffer.alloc(100), 0, 100, 0);
    const ranges = Float64Array.of(0, 50, 60, 100); // the second range runs past the end
    const to = await open(join(dir, 'laid'), 'w');
    try {
      await assert.rejects(
        blobCrypto().packFromSpool(file.fd, to.fd, ranges, Buffer.alloc(8)),
        (e) => {
          assert.equal((e as { errno?: number }).errno, 5, 'EIO: the spool file is short');
          assert.equal((e as { syscall?: string }).syscall, 'read');
          return true;
        },
      );
    } finally {
      await to.close();
    }
    const readOnly = await open(path, 'r');
    try {
      await assert.rejects(
        blobCrypto().packFromSpool(file.fd, readOnly.fd, Float64Array.of(0, 10), Buffer.alloc(0)),
        (e) =>
          (e as { errno?: number; syscall?: string }).errno === 9 &&
          (e as { syscall?: string }).syscall === 'write',
      );
    } finally {
      await readOnly.close();
    }
  } finally {
    await file.close();
  }
});
