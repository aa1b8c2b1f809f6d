/**
 * The native file sealer (native/file_seal.c) against the rules the rest of holdfast defines in
 * TypeScript: it must cut where the Chunker cuts, name chunks as blobIdOf does, compress exactly
 * when compressBlob does, and seal what openBlob opens — for every size and kind of file, every
 * compression mode, and a stream's chunks. Then its own duties: stored and repeated chunks only
 * named, system errors per file, a file changed while read, slabs sealed into again once freed
 * (at most 16 kept), backpressure by credit, and threads that stop when it is closed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BlobId } from '../../../core/index.js';
import { Chunker, type ChunkerParams } from '../../chunker/index.js';
import { compressBlob, decompressBlob, type CompressionMode } from '../../compression/index.js';
import { blobIdOf } from '../../crypto/index.js';
import { openBlob } from '../../format/index.js';
import { NativeFileSealer, type FileSealerSetup } from './native-file-sealer.js';
import { assertEndsWithTerminatedWorker } from '../../../testing/worker-teardown.js';
import type { FileTask, JobReport, SealerMessage, SealTask } from './sealer-codec.js';

const PARAMS: ChunkerParams = { minSize: 4096, avgSize: 16384, maxSize: 65536 };
/** A sealer's read (READ_SIZE in native/file_seal.h). */
const READ = 1024 * 1024;
const SLAB = 256 * 1024;

function setup(compression: CompressionMode, more: Partial<FileSealerSetup> = {}): FileSealerSetup {
  return {
    masterKey: randomBytes(32),
    idKey: randomBytes(32),
    chunkerKey: randomBytes(32),
    chunkerParams: PARAMS,
    compression,
    slabBytes: SLAB,
    creditWindow: 1 << 30,
    ...more,
  };
}

/** The chunks the Chunker cuts `data` into, fed in reads of `read` bytes. */
function chunksOf(s: FileSealerSetup, data: Buffer, read = 4 * 1024 * 1024): Buffer[] {
  const chunker = new Chunker(s.chunkerKey, s.chunkerParams);
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += read)
    out.push(...chunker.push(data.subarray(at, at + read)));
  return [...out, ...chunker.finish()];
}

function text(bytes: number): Buffer {
  const words = ['seal', 'slab', 'chunk', 'file', 'backup', 'restore', 'pack', 'tree'];
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `${words[(i * 7) % 8]} ${i % 1000} `;
  return Buffer.from(s.slice(0, bytes));
}

/** Collects one sealer's messages; `next` resolves with the next one. */
class Inbox {
  readonly messages: SealerMessage[] = [];
  private waiter: (() => void) | undefined;
  readonly take = (m: SealerMessage): void => {
    this.messages.push(m);
    this.waiter?.();
  };
  /** Reports until job `job` is done (failures throw). */
  async job(job: number): Promise<JobReport[]> {
    const reports: JobReport[] = [];
    for (;;) {
      while (this.messages.length === 0) await new Promise<void>((r) => (this.waiter = r));
      const m = this.messages.shift()!;
      if (m.kind === 'failure') throw new Error(m.message);
      assert.equal(m.job, job);
      reports.push(m);
      if (m.done) return reports;
    }
  }
}

/** Sealed blobs of some reports, by id: their bytes as the slabs hold them. */
function sealedOf(
  reports: JobReport[],
): Map<BlobId, { sealed: Buffer; raw: number; compressed: boolean }> {
  const slabs = new Map<number, ArrayBuffer>();
  const out = new Map<BlobId, { sealed: Buffer; raw: number; compressed: boolean }>();
  for (const r of reports) {
    for (const s of r.slabs) slabs.set(s.id, s.memory);
    for (const b of r.blobs) {
      const sealed = Buffer.from(slabs.get(b.slab)!, b.offset, b.length);
      out.set(b.id, { sealed, raw: b.rawLength, compressed: b.compressed });
    }
  }
  return out;
}

function fileTask(path: string, size: number, mtimeNs: bigint, stored?: BlobId[]): FileTask {
  return { path: Buffer.from(path), size, mtimeNs, ...(stored && { stored }) };
}

async function taskFor(path: string, stored?: BlobId[]): Promise<FileTask> {
  const st = await stat(path, { bigint: true });
  return fileTask(path, Number(st.size), st.mtimeNs, stored);
}

const threads = (): number => readdirSync('/proc/self/task').length;
/** The names of this process's threads (what `top -H` and `ps -L` show). */
const threadNames = (): string[] =>
  readdirSync('/proc/self/task').map((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
    } catch {
      return ''; // the thread ended meanwhile
    }
  });

void describe('NativeFileSealer', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-sealer-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const mode of ['auto', 'max', 'off'] as const) {
    void it(`cuts, names, compresses and seals as the TypeScript rules do (${mode})`, async () => {
      const s = setup(mode);
      const island = randomBytes(300_000);
      text(4096).copy(island, 3 * Math.floor((300_000 - 4096) / 7));
      const files: [string, Buffer][] = [
        ['empty', Buffer.alloc(0)],
        ['byte', Buffer.from('x')],
        ['min', text(PARAMS.minSize)],
        ['min+1', text(PARAMS.minSize + 1)],
        ['text', text(700_000)],
        ['random', randomBytes(500_000)],
        ['zeros', Buffer.alloc(400_000)],
        // Larger than a read: chunks that span reads, cut on across the window's moves.
        ['large', Buffer.concat([randomBytes(3_000_000), text(3_000_000)])],
        // Around a read (1 MiB) and the window (a read and maxSize).
        ['read-1', text(READ - 1)],
        ['read', text(READ)],
        ['read+1', text(READ + 1)],
        ['window', text(READ + PARAMS.maxSize)],
        ['window+1', Buffer.concat([randomBytes(READ), text(PARAMS.maxSize + 1)])],
        // Sampled in mode auto (≥ 128 KiB chunks only with a larger max: see below).
        ['island', island],
      ];
      for (const [name, data] of files) await writeFile(join(root, `${mode}-${name}`), data);
      const inbox = new Inbox();
      const sealer = new NativeFileSealer(s, inbox.take);
      try {
        const tasks = await Promise.all(
          files.map(([name]) => taskFor(join(root, `${mode}-${name}`))),
        );
        sealer.job(1, tasks);
        const reports = await inbox.job(1);
        const outcomes = reports.flatMap((r) => r.files);
        const sealed = sealedOf(reports);
        assert.equal(outcomes.length, files.length);
        const seen = new Set<BlobId>();
        files.forEach(([name, data], i) => {
          const outcome = outcomes[i]!;
          assert.equal(outcome.file, i);
          assert.equal(outcome.error, undefined, name);
          assert.equal(outcome.bytes, data.length, name);
          assert.equal(outcome.changedWhileReading, false, name);
          const chunks = chunksOf(s, data);
          const ids = chunks.map((c) => blobIdOf(Buffer.from(s.idKey), 'data', c));
          assert.deepEqual(outcome.content, ids, `${name}: chunk ids`);
          chunks.forEach((chunk, k) => {
            const id = ids[k]!;
            const blob = sealed.get(id);
            if (seen.has(id)) return; // a repeat is named only (below)
            seen.add(id);
            assert.ok(blob, `${name}: chunk ${k} sealed`);
            const reference = compressBlob(chunk, mode);
            assert.equal(
              blob.compressed,
              reference !== undefined,
              `${name}: chunk ${k} compressed`,
            );
            assert.equal(blob.raw, chunk.length);
            const stored = openBlob(Buffer.from(s.masterKey), 'data', id, blob.sealed);
            const plain = blob.compressed ? decompressBlob(stored, chunk.length) : stored;
            assert.ok(plain.equals(chunk), `${name}: chunk ${k} opens to its plaintext`);
            if (reference !== undefined) assert.ok(stored.equals(reference), 'the same zstd frame');
          });
        });
        // Each id sealed once: the zeros' repeated chunks too.
        assert.equal(reports.flatMap((r) => r.blobs).length, seen.size);
      } finally {
        sealer.close();
      }
    });
  }

  void it('samples large chunks in mode auto as compressBlob does', async () => {
    // Chunks of 128 KiB and more: a larger minimum, so each file is one chunk.
    const params = { minSize: 1 << 20, avgSize: 2 << 20, maxSize: 4 << 20 };
    const s = setup('auto', { chunkerParams: params, slabBytes: 1 << 20 });
    const size = 1 << 20;
    const step = Math.floor((size - 4096) / 7);
    const island = randomBytes(size);
    text(65_536).copy(island, 3 * step);
    const missed = randomBytes(size);
    text(step - 8192).copy(missed, 4096 + 1024);
    const cases = [island, missed, text(size), randomBytes(size)];
    const inbox = new Inbox();
    const sealer = new NativeFileSealer(s, inbox.take);
    try {
      for (const [i, data] of cases.entries()) await writeFile(join(root, `sampled-${i}`), data);
      sealer.job(1, await Promise.all(cases.map((_, i) => taskFor(join(root, `sampled-${i}`)))));
      const reports = await inbox.job(1);
      const blobs = reports.flatMap((r) => r.blobs);
      assert.deepEqual(
        blobs.map((b) => b.compressed),
        cases.map((c) => compressBlob(c, 'auto') !== undefined),
      );
      assert.deepEqual(
        blobs.map((b) => b.compressed),
        [true, false, true, false],
      );
    } finally {
      sealer.close();
    }
  });

  void it('names stored and repeated chunks without sealing them, and seals a stream', async () => {
    const s = setup('auto');
    const data = randomBytes(400_000);
    const path = join(root, 'stored');
    await writeFile(path, data);
    const ids = chunksOf(s, data).map((c) => blobIdOf(Buffer.from(s.idKey), 'data', c));
    assert.ok(ids.length >= 3);
    const inbox = new Inbox();
    const sealer = new NativeFileSealer(s, inbox.take);
    try {
      sealer.job(1, [await taskFor(path, [ids[0]!, ids[2]!])]);
      let reports = await inbox.job(1);
      const all = [...reports]; // a slab begun in one job may hold blobs of the next
      assert.deepEqual(reports.flatMap((r) => r.files)[0]!.content, ids);
      const sealedIds = reports.flatMap((r) => r.blobs.map((b) => b.id));
      assert.deepEqual(
        sealedIds,
        ids.filter((_, i) => i !== 0 && i !== 2),
      );
      // The same file again, nothing stored: only the chunks not sent yet are sealed.
      sealer.job(2, [await taskFor(path)]);
      reports = await inbox.job(2);
      all.push(...reports);
      assert.deepEqual(
        reports.flatMap((r) => r.blobs.map((b) => b.id)),
        [ids[0], ids[2]],
      );
      assert.deepEqual(reports.flatMap((r) => r.files)[0]!.content, ids);
      // A stream's chunks, named by the caller, are read in place.
      const chunks = [text(10_000), randomBytes(5000)];
      const named = chunks.map((data) => ({
        id: blobIdOf(Buffer.from(s.idKey), 'data', data),
        data,
      }));
      const stream: SealTask = { chunks: named };
      sealer.job(3, [stream]);
      reports = await inbox.job(3);
      all.push(...reports);
      const outcome = reports.flatMap((r) => r.files)[0]!;
      assert.deepEqual(
        outcome.content,
        named.map((c) => c.id),
      );
      assert.equal(outcome.bytes, 15_000);
      const sealed = sealedOf(all);
      for (const c of named) {
        const blob = sealed.get(c.id)!;
        const stored = openBlob(Buffer.from(s.masterKey), 'data', c.id, blob.sealed);
        assert.ok((blob.compressed ? decompressBlob(stored, blob.raw) : stored).equals(c.data));
      }
    } finally {
      sealer.close();
    }
  });

  void it('reports system errors per file and a file changed while read', async () => {
    const s = setup('auto');
    const path = join(root, 'plain');
    await writeFile(path, 'hello');
    await symlink(path, join(root, 'link'));
    const inbox = new Inbox();
    const sealer = new NativeFileSealer(s, inbox.take);
    try {
      const task = await taskFor(path);
      sealer.job(1, [
        fileTask(join(root, 'missing'), 1, 0n),
        fileTask(root, 4096, 0n),
        fileTask(join(root, 'link'), 5, 0n),
        task,
        { ...task, size: 4 },
        { ...task, mtimeNs: task.mtimeNs + 1n },
      ]);
      const outcomes = (await inbox.job(1)).flatMap((r) => r.files);
      assert.deepEqual(
        outcomes.map((o) => o.error),
        [
          { errno: 2, syscall: 'open' }, // ENOENT
          { errno: 21, syscall: 'read' }, // EISDIR
          { errno: 40, syscall: 'open' }, // ELOOP: a link put where the walk saw a file
          undefined,
          undefined,
          undefined,
        ],
      );
      assert.deepEqual(
        outcomes.map((o) => o.changedWhileReading),
        [false, false, false, false, true, true],
      );
      assert.equal(outcomes[3]!.content.length, 1);
      // An mtime before 1970 round-trips through the encoding's floor division.
      await utimes(path, -1.5, -1.5);
      sealer.job(2, [await taskFor(path)]);
      const [again] = (await inbox.job(2)).flatMap((r) => r.files);
      assert.equal(again!.changedWhileReading, false);
    } finally {
      sealer.close();
    }
  });

  void it('seals into freed slabs again, keeps at most 16, and gives an oversized chunk its own', async () => {
    // 64 KiB slabs for chunks up to 64 KiB: random chunks of ≥ 4 KiB fill one in a few blobs.
    const s = setup('off', { slabBytes: 64 * 1024 });
    const inbox = new Inbox();
    const sealer = new NativeFileSealer(s, inbox.take);
    const path = join(root, 'slabs');
    // Zeros at the end: maximal chunks (no cut in them), one id, sealed once.
    await writeFile(path, Buffer.concat([randomBytes(3_000_000), Buffer.alloc(200_000)]));
    try {
      sealer.job(1, [await taskFor(path)]);
      const first = await inbox.job(1);
      const made = first.flatMap((r) => r.slabs);
      const retired = first.flatMap((r) => r.retired);
      assert.ok(retired.length > 20, `${retired.length} slabs retired`);
      const sizes = new Set(made.map((m) => m.memory.byteLength));
      assert.ok([...sizes].every((n) => n >= 64 * 1024));
      assert.ok(
        made.some((m) => m.memory.byteLength > 64 * 1024),
        'a maximal chunk is bigger than a slab',
      );
      // Nothing freed: every slab is new. Then free them all and seal again.
      assert.equal(new Set(made.map((m) => m.id)).size, made.length);
      for (const id of retired) sealer.free(id);
      await writeFile(path, randomBytes(3_000_000));
      sealer.job(2, [await taskFor(path)]);
      const second = await inbox.job(2);
      const again = second.flatMap((r) => r.slabs);
      const reused = again.filter((m) => retired.includes(m.id));
      assert.equal(reused.length, 16, 'the 16 standard slabs kept are sealed into again');
      for (const m of reused) {
        const before = made.find((x) => x.id === m.id)!;
        assert.equal(m.memory, before.memory, 'the same ArrayBuffer');
        assert.equal(m.memory.byteLength, 64 * 1024);
      }
      assert.ok(again.length > reused.length, 'then new ones');
      assert.throws(() => sealer.free(99_999), /not a slab/);
    } finally {
      sealer.close();
    }
  });

  void it('waits for credit: at most the window is posted and not given back', async () => {
    const window = 256 * 1024;
    const s = setup('off', { creditWindow: window, slabBytes: 64 * 1024 });
    const inbox = new Inbox();
    const sealer = new NativeFileSealer(s, inbox.take);
    const path = join(root, 'credit');
    await writeFile(path, randomBytes(4_000_000));
    try {
      sealer.job(1, [await taskFor(path)]);
      await new Promise((r) => setTimeout(r, 300));
      const posted = inbox.messages.reduce((n, m) => n + (m.kind === 'report' ? m.credit : 0), 0);
      assert.ok(posted > 0 && posted <= window, `${posted} bytes posted without credit back`);
      assert.ok(!inbox.messages.some((m) => m.kind === 'report' && m.done));
      // Give back what each report took, as the pool does once the writer has its blobs.
      let done = false;
      while (!done) {
        while (inbox.messages.length === 0) await new Promise((r) => setTimeout(r, 5));
        const m = inbox.messages.shift()!;
        assert.equal(m.kind, 'report');
        if (m.kind === 'report') {
          sealer.give(m.credit);
          done = m.done;
        }
      }
    } finally {
      sealer.close();
    }
  });

  void it('stops its threads when closed, busy or idle, and refuses jobs after', async () => {
    const base = threads();
    const s = setup('auto', { creditWindow: 64 * 1024 });
    const path = join(root, 'busy');
    await writeFile(path, randomBytes(8_000_000));
    const idle = new NativeFileSealer(s, () => {});
    const busy = new NativeFileSealer(s, () => {});
    // Blocked on credit mid-file, with its id helper running.
    busy.job(1, [await taskFor(path)]);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(threads() >= base + 3);
    // Named, so an operator can tell them apart in `top -H`: two sealers, one id helper.
    const names = threadNames();
    assert.equal(names.filter((n) => n === 'hf-sealer').length, 2, names.join(','));
    assert.equal(names.filter((n) => n === 'hf-sealer-ids').length, 1, names.join(','));
    idle.close();
    busy.close();
    assert.equal(threads(), base);
    assert.throws(() => busy.job(2, []), /closed/);
    busy.close(); // idempotent
  });

  void it('ends cleanly when the worker that made it is terminated mid-job', async () => {
    // Sealers left busy (waiting for credit mid-file) in a worker thread that is then
    // terminated: the environment's teardown stops their threads.
    const path = join(root, 'teardown');
    await writeFile(path, randomBytes(8_000_000));
    const sealer = JSON.stringify(new URL('./native-file-sealer.js', import.meta.url).href);
    await assertEndsWithTerminatedWorker(`
      import { parentPort } from 'node:worker_threads';
      import { statSync } from 'node:fs';
      const { NativeFileSealer } = await import(${sealer});
      const st = statSync(${JSON.stringify(path)}, { bigint: true });
      const task = { path: Buffer.from(${JSON.stringify(path)}), size: Number(st.size),
        mtimeNs: st.mtimeNs };
      for (let i = 0; i < 4; i++) {
        const s = new NativeFileSealer({ masterKey: Buffer.alloc(32, 1), idKey: Buffer.alloc(32, 2),
          chunkerKey: Buffer.alloc(32, 3), chunkerParams: { minSize: 4096, avgSize: 16384,
          maxSize: 65536 }, compression: 'auto', slabBytes: 65536, creditWindow: 65536 }, () => {});
        s.job(1, [task]);
      }
      setTimeout(() => parentPort.postMessage('busy'), 200);`);
  });
});
