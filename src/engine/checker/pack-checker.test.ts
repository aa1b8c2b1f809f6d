/**
 * The native pack checker (native/pack_check.c) against the reference rules (verifyBlob): a blob
 * it passes is never one verifyBlob refuses. A refusal alone costs only a second look in
 * JavaScript (pack-check.ts), but a pass is final, so every kind of damage is tried here on the
 * native checker by itself: seal, id, type, lengths, compression code and the zstd data inside a
 * seal that opens. Each checker has a thread of its own: it must end when the checker is
 * collected, and an environment torn down with a window out must not take the process down.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BlobId } from '../../core/index.js';
import { compressBlob } from '../compression/index.js';
import { blobCrypto, blobIdOf } from '../crypto/index.js';
import {
  IndexRecords,
  sealBlob,
  verifyBlob,
  type BlobKeys,
  type BlobType,
  type PackEntry,
} from '../format/index.js';
import { assertEndsWithTerminatedWorker } from '../../testing/worker-teardown.js';
import { PackChecker } from './pack-check.js';

const keys: BlobKeys = { masterKey: randomBytes(32), idKey: randomBytes(32) };
/** A child process that hangs (a thread never stopped, a freed checker) fails the test. */
const CHILD = { timeout: 60_000 };

/** A blob as a pack holds it: its sealed bytes and the index entry naming it (offset unset). */
interface Case {
  readonly name: string;
  readonly sealed: Buffer;
  readonly entry: Omit<PackEntry, 'offset'>;
}

function text(bytes: number, seed: number): Buffer {
  const words = ['pack', 'blob', 'tree', 'index', 'seal', 'chunk', 'restore', String(seed)];
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += words[(i * 7 + seed) % words.length] + ' ';
  return Buffer.from(s.slice(0, bytes));
}

/** A sound blob of `plain`, compressed when `compress` (and zstd makes it smaller). */
function sound(name: string, plain: Buffer, compress: boolean, type: BlobType = 'data'): Case {
  const id = blobIdOf(keys.idKey, type, plain);
  const compressed = compress ? compressBlob(plain, 'auto') : undefined;
  assert.equal(compressed !== undefined, compress, `${name}: compresses as intended`);
  const stored = compressed ?? plain;
  return {
    name,
    sealed: sealBlob(keys.masterKey, type, id, stored),
    entry: {
      type,
      id,
      compression: compressed ? 1 : 0,
      length: stored.length + 28,
      rawLength: plain.length,
    },
  };
}

/** A seal that opens around `stored`, claimed to be `plain`'s zstd data. */
function sealedAround(name: string, plain: Buffer, stored: Buffer): Case {
  const id = blobIdOf(keys.idKey, 'data', plain);
  return {
    name,
    sealed: sealBlob(keys.masterKey, 'data', id, stored),
    entry: {
      type: 'data',
      id,
      compression: 1,
      length: stored.length + 28,
      rawLength: plain.length,
    },
  };
}

function flipped(c: Case, name: string, at: number): Case {
  const sealed = Buffer.from(c.sealed);
  sealed[at]! ^= 0x01;
  return { ...c, name, sealed };
}

function entryChanged(c: Case, name: string, change: Partial<PackEntry>): Case {
  return { ...c, name, entry: { ...c.entry, ...change } };
}

function otherId(id: BlobId): BlobId {
  return ((id[0] === '0' ? '1' : '0') + id.slice(1)) as BlobId;
}

/** Every case laid back to back from pack offset `at`: one window, one native call. */
async function nativeVerdicts(
  checker: PackChecker,
  cases: readonly Case[],
  at: number,
): Promise<number[]> {
  let offset = at;
  const entries = cases.map((c) => {
    const e = { ...c.entry, offset };
    offset += c.sealed.length;
    return e;
  });
  const window = Buffer.concat(cases.map((c) => c.sealed));
  const records = IndexRecords.encode(entries);
  const verdicts = await blobCrypto().packCheckWindow(checker.handle, window, at, records.bytes);
  return [...verdicts];
}

function jsVerdict(c: Case): number {
  try {
    const e = c.entry;
    verifyBlob(keys, e.type, e.id, c.sealed, e.compression, e.rawLength, 'pack test');
    return 1;
  } catch {
    return 0;
  }
}

void describe('native pack checker', () => {
  const small = text(60_000, 1);
  const large = text(3 * 1024 * 1024 + 12_345, 2);
  const random = randomBytes(50_000);
  // Stored bytes of several 256 KiB pieces: the seal is opened a piece at a time.
  const mixed = Buffer.concat([randomBytes(600_000), text(600_000, 5)]);
  const base = [
    sound('compressed', small, true),
    sound('large compressed (in pieces)', large, true),
    sound('stored raw', random, false),
    sound('empty', Buffer.alloc(0), false),
    sound('tree', text(5_000, 3), true, 'tree'),
    sound('large stored raw (in pieces)', randomBytes(700_000), false),
    sound('compressed, large stored bytes (in pieces)', mixed, true),
  ];

  void it('passes sound blobs, as verifyBlob does', async () => {
    const checker = new PackChecker(keys);
    assert.deepEqual(await nativeVerdicts(checker, base, 0), [1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(base.map(jsVerdict), [1, 1, 1, 1, 1, 1, 1]);
  });

  void it('refuses every kind of damage that verifyBlob refuses', async () => {
    const [compressed, largeOne, raw] = base as [Case, Case, Case];
    const [largeRaw, largeStored] = base.slice(5) as [Case, Case];
    const frame = compressBlob(small, 'auto')!;
    const half = compressBlob(small.subarray(0, 30_000), 'auto')!;
    const rest = compressBlob(small.subarray(30_000), 'auto')!;
    const cases: Case[] = [];
    for (const c of [compressed, largeOne, raw, largeRaw, largeStored]) {
      const last = c.sealed.length - 1;
      cases.push(
        flipped(c, `${c.name}: nonce`, 0),
        flipped(c, `${c.name}: ciphertext`, 40),
        // In the last piece, past the first: the tag, checked at the end, still refuses it.
        flipped(c, `${c.name}: ciphertext near the end`, last - 20),
        flipped(c, `${c.name}: tag`, last),
        entryChanged(c, `${c.name}: raw length + 1`, { rawLength: c.entry.rawLength + 1 }),
        entryChanged(c, `${c.name}: raw length - 1`, { rawLength: c.entry.rawLength - 1 }),
        entryChanged(c, `${c.name}: another id`, { id: otherId(c.entry.id) }),
        entryChanged(c, `${c.name}: another type`, { type: 'tree' }),
        entryChanged(c, `${c.name}: compression code`, {
          compression: c.entry.compression === 1 ? 0 : 1,
        }),
      );
    }
    cases.push(
      sealedAround('not zstd', small, text(20_000, 9)),
      sealedAround('zstd and a byte more', small, Buffer.concat([frame, Buffer.from([0])])),
      sealedAround('zstd cut short', small, frame.subarray(0, frame.length - 3)),
      sealedAround('empty zstd data', Buffer.alloc(0), Buffer.alloc(0)),
      sealedAround('zstd of other plaintext', small, compressBlob(text(60_000, 4), 'auto')!),
      // Two whole frames make the blob: zstd's own rule, which verifyBlob follows.
      sealedAround('two frames', small, Buffer.concat([half, rest])),
    );
    const checker = new PackChecker(keys);
    const native = await nativeVerdicts(checker, cases, 4096);
    const reference = cases.map(jsVerdict);
    for (let i = 0; i < cases.length; i++)
      assert.equal(native[i], reference[i], `${cases[i]!.name}: native ${native[i]}`);
    assert.deepEqual(
      cases.filter((_, i) => reference[i] === 1).map((c) => c.name),
      ['two frames'],
    );
  });

  void it('refuses a blob the window does not hold whole', async () => {
    const checker = new PackChecker(keys);
    const c = base[0]!;
    const window = c.sealed.subarray(0, c.sealed.length - 1);
    const entry = IndexRecords.encode([{ ...c.entry, offset: 100 }]).bytes;
    const verdicts = await blobCrypto().packCheckWindow(checker.handle, window, 100, entry);
    assert.deepEqual([...verdicts], [0]);
    // Starting before the window.
    const whole = await blobCrypto().packCheckWindow(checker.handle, c.sealed, 101, entry);
    assert.deepEqual([...whole], [0]);
  });

  void it("names the pack by its windows' SHA-256 and starts anew after each digest", async () => {
    const checker = new PackChecker(keys);
    const native = blobCrypto();
    const parts = [randomBytes(1000), randomBytes(70_000), Buffer.alloc(0), randomBytes(5)];
    let at = 0;
    for (const part of parts) {
      await native.packCheckWindow(checker.handle, part, at, Buffer.alloc(0));
      at += part.length;
    }
    const expected = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
    assert.equal(native.packCheckDigest(checker.handle), expected);
    await native.packCheckWindow(checker.handle, parts[1]!, 0, Buffer.alloc(0));
    const second = createHash('sha256').update(parts[1]!).digest('hex');
    assert.equal(native.packCheckDigest(checker.handle), second);
  });

  void it('checks one window at a time and refuses what is not a checker', async () => {
    const checker = new PackChecker(keys);
    const native = blobCrypto();
    const running = native.packCheckWindow(checker.handle, base[1]!.sealed, 0, Buffer.alloc(0));
    assert.throws(
      () => native.packCheckWindow(checker.handle, Buffer.alloc(1), 0, Buffer.alloc(0)),
      /one window at a time/,
    );
    assert.throws(() => native.packCheckDigest(checker.handle), /still being checked/);
    await running;
    assert.throws(
      () => native.packCheckDigest({} as never),
      (err: Error) => err instanceof TypeError && /not a pack checker/.test(err.message),
    );
    assert.throws(
      () => native.packCheckWindow(checker.handle, Buffer.alloc(1), 0, Buffer.alloc(45)),
      /whole number of index entries/,
    );
  });

  void it('closes: the thread stops now, or after the window out; later windows throw', async () => {
    const native = blobCrypto();
    const threads = async (): Promise<number> => (await readdir('/proc/self/task')).length;
    const before = await threads();
    const idle = new PackChecker(keys);
    const busy = new PackChecker(keys);
    assert.equal(await threads(), before + 2);
    // Named, so an operator can tell them apart in `top -H`.
    const tasks = await readdir('/proc/self/task');
    const names = await Promise.all(
      tasks.map((t) => readFile(`/proc/self/task/${t}/comm`, 'utf8').catch(() => '')),
    );
    assert.ok(names.filter((n) => n.trim() === 'hf-checker').length >= 2, names.join(','));
    const running = native.packCheckWindow(busy.handle, base[1]!.sealed, 0, Buffer.alloc(0));
    idle.close();
    busy.close();
    assert.deepEqual([...(await running)], []);
    assert.equal(await threads(), before);
    assert.throws(
      () => native.packCheckWindow(idle.handle, Buffer.alloc(1), 0, Buffer.alloc(0)),
      /closed/,
    );
    idle.close(); // again: nothing
  });

  void it("stops a checker's thread when the checker is collected", async () => {
    const crypto = JSON.stringify(new URL('../crypto/index.js', import.meta.url).href);
    const script = `
      import { readdirSync } from 'node:fs';
      import { setTimeout as sleep } from 'node:timers/promises';
      const { blobCrypto } = await import(${crypto});
      const native = blobCrypto();
      const threads = () => readdirSync('/proc/self/task').length;
      const before = threads();
      let checkers = Array.from({ length: 12 }, () =>
        native.packChecker(Buffer.alloc(32, 1), Buffer.alloc(32, 2)));
      await Promise.all(checkers.map((c) => native.packCheckWindow(c, Buffer.alloc(4096), 0,
        Buffer.alloc(0))));
      const running = threads();
      checkers = undefined;
      let after = running;
      for (let i = 0; i < 50 && after > before; i++) {
        globalThis.gc();
        await sleep(20);
        after = threads();
      }
      console.log(JSON.stringify({ before, running, after }));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      CHILD,
    );
    const { before, running, after } = JSON.parse(stdout) as {
      before: number;
      running: number;
      after: number;
    };
    assert.equal(running, before + 12, 'a thread per checker');
    assert.equal(after, before, 'every thread stopped');
  });

  void it('a worker torn down with windows out ends cleanly', async () => {
    const crypto = JSON.stringify(new URL('../crypto/index.js', import.meta.url).href);
    // In the worker: eight checkers each with a 64 MiB window out (tens of milliseconds of
    // SHA-256), then the worker is terminated; the process carries on and exits normally.
    await assertEndsWithTerminatedWorker(`
      import { parentPort } from 'node:worker_threads';
      const { blobCrypto } = await import(${crypto});
      const native = blobCrypto();
      for (let i = 0; i < 8; i++) {
        const c = native.packChecker(Buffer.alloc(32, 1), Buffer.alloc(32, 2));
        void native.packCheckWindow(c, Buffer.alloc(64 * 1024 * 1024), 0, Buffer.alloc(0));
      }
      parentPort.postMessage('out');`);
  });
});
