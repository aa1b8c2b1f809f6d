/**
 * BlobWriter and the owners of sealed blobs (SealedBlobOwner): a kept blob is released once,
 * only after its pack is stored; a dropped duplicate or a pack that failed to store never is.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { BlobId } from '../../core/index.js';
import { sealBlob } from '../format/index.js';
import {
  MemoryStore,
  type ObjectBody,
  type ObjectKind,
  type PutOptions,
} from '../../storage/index.js';
import { BlobWriter, type SealedBlob } from './blob-writer.js';

const masterKey = randomBytes(32);
const blobId = (_type: string, plaintext: Uint8Array): BlobId =>
  createHash('sha256').update(plaintext).digest('hex') as BlobId;

/** A memory store whose puts wait for `open()` (or fail, once `fail` is set). */
class GatedStore extends MemoryStore {
  fail = false;
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  open(): void {
    this.opened();
  }
  override async put(
    kind: ObjectKind,
    name: string,
    data: ObjectBody,
    o?: PutOptions,
  ): Promise<void> {
    await this.gate;
    if (this.fail) throw new Error('storage refused');
    return super.put(kind, name, data, o);
  }
}

function writerOn(store: MemoryStore): BlobWriter {
  const index = { has: () => false, addPack: () => undefined };
  return new BlobWriter({ store, index, masterKey, blobId, packSize: 1 << 20, compression: 'off' });
}

function sealed(text: string, released: Buffer[]): SealedBlob {
  const plaintext = Buffer.from(text);
  const id = blobId('data', plaintext);
  const bytes = sealBlob(masterKey, 'data', id, plaintext);
  return {
    id,
    sealed: bytes,
    rawLength: plaintext.length,
    compressed: false,
    owner: { release: (b) => released.push(b) },
  };
}

void test('a kept blob is released once, after its pack is stored; a duplicate never', async () => {
  const store = new GatedStore();
  const writer = writerOn(store);
  const released: Buffer[] = [];
  const a = sealed('a blob', released);
  assert.equal((await writer.saveSealed('data', a)).added, true);
  const duplicate = { ...sealed('a blob', released), sealed: Buffer.from(a.sealed) };
  assert.equal((await writer.saveSealed('data', duplicate)).added, false);
  const flushed = writer.flush();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(released, [], 'not before the pack is stored');
  store.open();
  await flushed;
  assert.equal(released.length, 1);
  assert.equal(released[0], a.sealed);
  const packs: string[] = [];
  for await (const info of store.list('pack')) packs.push(info.name);
  assert.equal(packs.length, 1);
  const stored = await store.get('pack', packs[0]!);
  assert.ok(stored.includes(a.sealed), 'the pack holds the blob as sealed');
});

void test('a blob whose pack failed to store is not released', async () => {
  const store = new GatedStore();
  store.fail = true;
  const writer = writerOn(store);
  const released: Buffer[] = [];
  await writer.saveSealed('data', sealed('another blob', released));
  store.open();
  await assert.rejects(writer.flush(), /storage refused/);
  assert.deepEqual(released, []);
});
