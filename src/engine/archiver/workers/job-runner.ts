/**
 * JobRunner: the body of a file worker. For each file of a job it reads the file with
 * synchronous calls (cheap inside a worker: no promise, no thread-pool hop per read), chunks it,
 * and hashes, compresses and seals every chunk exactly as BlobWriter.save does, so the main
 * thread only has to decide dedup and append sealed bytes to packs. A file of several chunks has
 * their ids computed on a helper thread (BlobIdPipeline) one chunk ahead of the sealing, and
 * its chunks whose ids the parent snapshot's copy of the file already stored are only named.
 *
 * Blobs are sealed straight into a slab (SlabPool: shared memory the main thread reads them from
 * in place). A report is posted when the next blob does not fit the slab, which is then
 * retired, and at the end of each job; the slab outlives the job.
 *
 * Memory (defaults): one 4 MiB read buffer, the chunker's window (≤ max chunk size), zstd's
 * scratch (≈ max chunk size), the slab being filled (slabBytes, or one sealed chunk if larger)
 * and the slabs the main thread still holds blobs of, ≤ FREE_SLABS of them kept free for reuse.
 * Posted but unconsumed reports are bounded by the CreditGate window.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { errnoCode, describeError, type BlobId } from '../../../core/index.js';
// Not sources/index.js: a worker loads only what it uses (see .dependency-cruiser.cjs).
import { openSourceFileSync } from '../../../sources/fs/open-source-file.js';
import { Chunker } from '../../chunker/index.js';
import { compressBlobView } from '../../compression/index.js';
import { BlobIdPipeline, blobIdOf, SEAL_OVERHEAD } from '../../crypto/index.js';
import { sealBlobInto } from '../../format/index.js';
import type { CreditGate } from './credit-gate.js';
import type {
  FileJob,
  FileOutcome,
  FileTask,
  FileWorkerSetup,
  JobReport,
  NewSlab,
  SealedBlobRef,
  SealTask,
} from './file-job.js';
import { SlabPool, type Slab } from './slab-pool.js';

const READ_SIZE = 4 * 1024 * 1024;
/**
 * Ids this worker already posted: a repeat (duplicate files in one batch, zero-filled regions of
 * a large file) is sent as an id only. Safe because the main thread handles one worker's
 * reports in order, so the first copy reached the BlobWriter before any reference to it.
 */
const SENT_IDS_LIMIT = 65_536;
/**
 * Free slabs kept for reuse (SlabPool). They come back at the pace packs are stored, about as
 * fast as they are filled, so this is rarely reached; it bounds the worker's idle memory.
 */
const FREE_SLABS = 16;

/** Thrown when the pool closed the credit gate: the job is abandoned, nothing is posted. */
export class PoolClosed extends Error {}

export type PostReport = (report: JobReport) => void;

export class JobRunner {
  private readonly chunker: Chunker;
  private readonly masterKey: Buffer;
  private readonly idKey: Buffer;
  private readonly buffer = Buffer.allocUnsafeSlow(READ_SIZE);
  private readonly minSize: number;
  private readonly sent = new Set<string>();
  /** The current file's FileTask.stored: chunks with these ids are named, not sealed. */
  private stored: ReadonlySet<string> | undefined;
  /**
   * Ids of a large file's chunks, computed on a helper thread while the worker seals; it holds
   * the chunks whose id is started and which are not sealed yet.
   */
  private readonly ids: BlobIdPipeline;
  private readonly slabs: SlabPool;
  /** The slab blobs are being sealed into; taken when the first blob needs it. */
  private slab: Slab | undefined;
  private slabUsed = 0;
  /** What the next report says besides its blobs: slabs begun, slabs retired, bytes sealed. */
  private begun: NewSlab[] = [];
  private retired: number[] = [];
  private sealedBytes = 0;
  private refs: SealedBlobRef[] = [];
  private outcomes: FileOutcome[] = [];
  private bytesRead = 0;

  constructor(
    private readonly setup: FileWorkerSetup,
    private readonly gate: CreditGate,
    private readonly post: PostReport,
  ) {
    this.masterKey = Buffer.from(setup.masterKey);
    this.idKey = Buffer.from(setup.idKey);
    this.ids = new BlobIdPipeline(this.idKey);
    this.chunker = new Chunker(Buffer.from(setup.chunkerKey), setup.chunkerParams);
    this.minSize = setup.chunkerParams.minSize;
    this.slabs = new SlabPool(setup.freed, setup.slabBytes, FREE_SLABS);
  }

  /** Runs one job to the end; throws PoolClosed, or on a bug (a non-system error). */
  run(job: FileJob): void {
    job.files.forEach((task, file) => {
      // Not `this.outcomes.push(this.saveFile(...))`: saving may post a report and replace
      // `this.outcomes`, and the outcome belongs in the next report.
      const outcome =
        'chunks' in task ? this.sealTask(task, file, job.job) : this.saveFile(task, file, job.job);
      this.outcomes.push(outcome);
    });
    this.report(job.job, true);
  }

  /** A stream's chunks, cut and named by the main thread: compressed and sealed here. */
  private sealTask(task: SealTask, file: number, job: number): FileOutcome {
    this.stored = undefined;
    let bytes = 0;
    const content = task.chunks.map(({ id, data }) => {
      bytes += data.byteLength;
      const chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return this.sealChunk(chunk, id as BlobId, job);
    });
    return { file, content, bytes, changedWhileReading: false };
  }

  private saveFile(task: FileTask, file: number, job: number): FileOutcome {
    let fd: number;
    try {
      fd = openSourceFileSync(Buffer.from(task.path, 'latin1'));
    } catch (err) {
      return failed(file, err);
    }
    let outcome: FileOutcome;
    this.stored = task.stored && new Set(task.stored);
    try {
      outcome = this.readFile(fd, task, file, job);
    } catch (err) {
      // The helper may still read a chunk of the read buffer: wait for it before reusing it.
      this.ids.drain();
      this.chunker.reset();
      outcome = failed(file, err);
    }
    try {
      closeSync(fd);
    } catch (err) {
      if (outcome.error === undefined) outcome = failed(file, err);
    }
    return outcome;
  }

  private readFile(fd: number, task: FileTask, file: number, job: number): FileOutcome {
    const content: BlobId[] = [];
    const buffer = this.buffer;
    let bytes = 0;
    let filled = 0;
    let chunking = false;
    for (;;) {
      const want = buffer.length - filled;
      const n = readSync(fd, buffer, filled, want, null);
      if (n === 0) break;
      bytes += n;
      this.bytesRead += n;
      filled += n;
      if (filled === buffer.length) {
        this.push(buffer, content, job);
        chunking = true;
        filled = 0;
      }
      // A short read that reaches the size the walk saw is the end of the file: skip the read
      // that would return 0 (one syscall per small file). Growth after the walk still shows in
      // the fstat below, which marks the file as changed while read.
      if (n < want && bytes === task.size) break;
    }
    if (!chunking && filled <= this.minSize) {
      // No chunk boundary falls below minSize (repository-format.md, "Chunking"), so a file no
      // longer than that is one chunk: hash and seal it straight from the read buffer, sparing
      // a copy per small file — most files of a source tree.
      if (filled > 0) content.push(this.saveChunk(buffer.subarray(0, filled), job));
    } else {
      if (filled > 0) this.push(buffer.subarray(0, filled), content, job);
      this.chunker.finishEach(
        (chunk) => this.pipe(chunk, content, job),
        () => this.settle(content, job),
      );
    }
    const after = fstatSync(fd, { bigint: true });
    const changedWhileReading =
      after.mtimeNs !== task.mtimeNs || Number(after.size) !== task.size || bytes !== task.size;
    return { file, content, bytes, changedWhileReading };
  }

  private push(data: Buffer, content: BlobId[], job: number): void {
    this.chunker.pushEach(
      data,
      (chunk) => this.pipe(chunk, content, job),
      () => this.settle(content, job),
    );
  }

  /**
   * A chunk of a file that is being cut: its id goes to the helper thread, and the chunk before
   * it, whose id is then (about) ready, is sealed meanwhile. One chunk behind, so the helper
   * hashes while this thread seals and searches the next cut; the chunks of one push stay valid
   * until its settle (Chunker.pushEach), which seals the last.
   */
  private pipe(chunk: Buffer, content: BlobId[], job: number): void {
    this.ids.start('data', chunk);
    if (this.ids.outstanding > 1) this.sealNext(content, job);
  }

  private settle(content: BlobId[], job: number): void {
    while (this.ids.outstanding > 0) this.sealNext(content, job);
  }

  private sealNext(content: BlobId[], job: number): void {
    const { id, plaintext } = this.ids.take();
    content.push(this.sealChunk(plaintext, id, job));
  }

  /** Hashes, compresses and seals a chunk that is a whole file (small files: no helper hop). */
  private saveChunk(chunk: Buffer, job: number): BlobId {
    return this.sealChunk(chunk, blobIdOf(this.idKey, 'data', chunk), job);
  }

  /** Compresses and seals one chunk of id `id`; `chunk` may be the read buffer and is not kept. */
  private sealChunk(chunk: Buffer, id: BlobId, job: number): BlobId {
    if (this.sent.has(id) || this.stored?.has(id) === true) return id;
    if (this.sent.size >= SENT_IDS_LIMIT) this.sent.clear();
    this.sent.add(id);
    const compressed = compressBlobView(chunk, this.setup.compression);
    const stored = compressed ?? chunk;
    const need = stored.length + SEAL_OVERHEAD;
    if (this.slab !== undefined && this.slab.memory.length - this.slabUsed < need) {
      this.retired.push(this.slab.id);
      this.slab = undefined;
      this.report(job, false);
    }
    if (this.slab === undefined) {
      this.slab = this.slabs.take(need);
      this.slabUsed = 0;
      this.begun.push({ id: this.slab.id, memory: this.slab.memory.buffer as SharedArrayBuffer });
    }
    const offset = this.slabUsed;
    const length = sealBlobInto(this.masterKey, 'data', id, stored, this.slab.memory, offset);
    this.slabUsed += length;
    this.sealedBytes += length;
    this.refs.push({
      id,
      slab: this.slab.id,
      offset,
      length,
      rawLength: chunk.length,
      compressed: compressed !== undefined,
    });
    return id;
  }

  /** Posts what is sealed since the last report, after taking credit for it (this may block: backpressure). */
  private report(job: number, done: boolean): void {
    const credit = this.sealedBytes;
    if (credit > 0 && !this.gate.take(credit)) throw new PoolClosed();
    const report: JobReport = {
      kind: 'report',
      job,
      slabs: this.begun,
      blobs: this.refs,
      retired: this.retired,
      credit,
      bytesRead: this.bytesRead,
      files: this.outcomes,
      done,
    };
    this.begun = [];
    this.refs = [];
    this.retired = [];
    this.sealedBytes = 0;
    this.outcomes = [];
    this.bytesRead = 0;
    this.post(report);
  }
}

/**
 * A system error (open, read, fstat, close: it carries a syscall name) is one file's problem,
 * reported like the in-thread path reports it; anything else is a bug and fails the backup.
 */
function failed(file: number, err: unknown): FileOutcome {
  const code = errnoCode(err);
  if (code === undefined || !(err instanceof Error) || !('syscall' in err)) throw err;
  const error = { code, message: describeError(err) };
  return { file, content: [], bytes: 0, changedWhileReading: false, error };
}
