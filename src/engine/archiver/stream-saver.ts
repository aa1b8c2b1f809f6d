/**
 * Saves a stream (stdin, a command's output, a database dump) as one file's content.
 *
 * A stream has one reader, the main thread, which cuts it into chunks. Each chunk's id is
 * computed on a helper thread (BlobIdPipeline) one chunk ahead. Up to POOLED_FROM bytes the main
 * thread also compresses and seals the chunks (BlobWriter.save); past it, chunks the repository
 * does not hold go to the file sealer pool in batches, which compresses and seals them on every
 * core (compression is most of a text stream's CPU: ≈ 2 s per GiB of a SQL dump's kind of data).
 * A short stream (a WAL segment) never waits for the sealers to start. An incompressible stream
 * (a compressed dump) goes to them too since they are native threads: 1 GiB from stdin 2.10–2.16
 * → 2.01–2.04 s here; with the file workers they replaced, handing it over cost more than
 * sealing it on the main thread (3.4 against 3.1 s).
 *
 * Memory: the chunker's window, and ≤ MAX_BATCHES_IN_FLIGHT per sealer batches of chunks, each
 * in a reused slab the sealer reads in place (a chunk is copied once into it; handing the
 * chunks' own buffers over instead left them to garbage collection, ≈ 150 MiB more at the peak
 * of a 1 GiB stream), plus the pool's own bound (FileSealerPool).
 */
import { interrupted, throwIfAborted, type BlobId } from '../../core/index.js';
import { BlobIdPipeline } from '../crypto/index.js';
import type { Repository } from '../repository/index.js';
import type { FileSaverContext, SavedFile } from './file-saver.js';
import { FileSealerPool } from './sealers/file-sealer-pool.js';

/** Stream bytes sealed on the main thread before the file sealers are started. */
export const POOLED_FROM = 32 * 1024 * 1024;
/** Bytes of chunks per batch handed to a sealer. */
const BATCH_BYTES = 4 * 1024 * 1024;
const MAX_BATCHES_IN_FLIGHT = 2;

export interface StreamSaverContext extends FileSaverContext {
  readonly repo: Repository;
  /**
   * File sealers for the part past POOLED_FROM (default: the repository's `workerThreads`);
   * 0: none.
   */
  readonly threads?: number;
}

/**
 * Saves `stream` chunk by chunk. An abort ends it at once, even while the stream is silent:
 * stdin or a command may never send another byte.
 */
export async function saveStream(
  stream: AsyncIterable<Buffer>,
  ctx: StreamSaverContext,
): Promise<{ content: BlobId[]; bytes: number }> {
  return ctx.chunkers.use(async (chunker) => {
    const sealer = new ChunkSealer(ctx);
    const pooled = new PooledSealer(ctx, sealer);
    let bytes = 0;
    try {
      for await (const data of untilAborted(stream, ctx.signal)) {
        throwIfAborted(ctx.signal);
        bytes += data.length;
        ctx.onBytes?.(data.length);
        if (pooled.active) {
          // Each chunk is copied from the chunker's view straight into a sealer's batch.
          chunker.pushEach(data, (view) => pooled.add(view));
          await pooled.backpressure();
        } else {
          for (const chunk of chunker.push(data)) await sealer.add(chunk);
          if (sealer.sealedBytes >= POOLED_FROM && pooled.available) {
            await sealer.finish();
            pooled.activate();
          }
        }
      }
      if (pooled.active) {
        chunker.finishEach((view) => pooled.add(view));
        await pooled.finish();
      } else {
        for (const chunk of chunker.finish()) await sealer.add(chunk);
        await sealer.finish();
      }
      return { content: sealer.content, bytes };
    } finally {
      await pooled.close();
      sealer.close();
    }
  });
}

/**
 * The first part of a stream: each chunk named on the helper thread one chunk ahead, and
 * compressed and sealed here (BlobWriter.save).
 */
class ChunkSealer {
  /** The stream's content so far, in order (PooledSealer appends to it too). */
  readonly content: BlobId[] = [];
  /** Holds the chunks whose id is started; push() returns copies, so they stay unchanged. */
  readonly ids: BlobIdPipeline;
  sealedBytes = 0;

  constructor(private readonly ctx: StreamSaverContext) {
    this.ids = new BlobIdPipeline(ctx.repo.idKey);
  }

  async add(chunk: Buffer): Promise<void> {
    this.ids.start('data', chunk);
    if (this.ids.outstanding > 1) await this.sealOldest();
  }

  /** Seals the chunks still waiting for their ids. */
  async finish(): Promise<void> {
    while (this.ids.outstanding > 0) await this.sealOldest();
  }

  /** Stops the helper thread, whatever happened. */
  close(): void {
    this.ids.close();
  }

  private async sealOldest(): Promise<void> {
    const { id, plaintext: chunk } = this.ids.take();
    this.content.push(id);
    this.sealedBytes += chunk.length;
    await this.ctx.writer.save('data', chunk, id);
  }
}

/**
 * The rest of a long stream: chunks are copied into reused slabs, named on the helper
 * thread one chunk ahead, and handed to the file sealers a slab (a batch) at a time, unless the
 * repository holds them already.
 */
class PooledSealer {
  private pool: FileSealerPool | undefined;
  private on = false;
  private slab: Buffer | undefined;
  private slabUsed = 0;
  private readonly freeSlabs: Buffer[] = [];
  private batch: { id: BlobId; data: Buffer }[] = [];
  private readonly inFlight: Promise<SavedFile>[] = [];

  constructor(
    private readonly ctx: StreamSaverContext,
    private readonly named: ChunkSealer,
  ) {}

  get available(): boolean {
    return this.threads() > 0;
  }

  get active(): boolean {
    return this.on;
  }

  activate(): void {
    this.on = true;
  }

  /** Takes one chunk, a view valid only during the call: copied at once. */
  add(view: Buffer): void {
    if (this.slab !== undefined && this.slab.length - this.slabUsed < view.length) {
      // The slab's chunks must all be named before it goes: the waiting one is in it.
      this.nameWaiting();
      this.handOver();
    }
    this.slab ??= this.takeSlab(view.length);
    const data = this.slab.subarray(this.slabUsed, this.slabUsed + view.length);
    view.copy(data);
    this.slabUsed += view.length;
    this.named.ids.start('data', data);
    if (this.named.ids.outstanding > 1) this.nameOldest();
  }

  /** Waits while MAX_BATCHES_IN_FLIGHT batches per sealer are out. */
  async backpressure(): Promise<void> {
    while (this.inFlight.length >= MAX_BATCHES_IN_FLIGHT * this.threads())
      await this.inFlight.shift();
  }

  /** Hands over the last batch and waits for every batch. */
  async finish(): Promise<void> {
    this.nameWaiting();
    this.handOver();
    await Promise.all(this.inFlight.splice(0));
  }

  /** Stops the sealers, whatever happened; batches left by a failure settle first. */
  async close(): Promise<void> {
    // The helper may still read a slab: done with it before the slabs are dropped.
    this.named.ids.drain();
    await Promise.allSettled(this.inFlight);
    await this.pool?.close();
  }

  private nameWaiting(): void {
    while (this.named.ids.outstanding > 0) this.nameOldest();
  }

  private nameOldest(): void {
    const { id, plaintext: data } = this.named.ids.take();
    this.named.content.push(id);
    // Held already: nothing to hand over (what batches in flight hold is dropped by the writer).
    if (!this.ctx.writer.has(id)) this.batch.push({ id, data });
  }

  /** A free slab of at least BATCH_BYTES (or `need`, for a larger chunk). */
  private takeSlab(need: number): Buffer {
    this.slabUsed = 0;
    const i = this.freeSlabs.findIndex((s) => s.length >= need);
    if (i >= 0) return this.freeSlabs.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(BATCH_BYTES, need));
  }

  private handOver(): void {
    const slab = this.slab;
    if (slab === undefined) return;
    this.slab = undefined;
    if (this.batch.length === 0) {
      this.freeSlabs.push(slab);
      return;
    }
    const { repo, writer, signal } = this.ctx;
    this.pool ??= new FileSealerPool({
      writer,
      idKey: repo.idKey,
      chunkerKey: repo.chunkerKey,
      chunkerParams: repo.chunkerParams,
      size: this.threads(),
      ...(signal && { signal }),
    });
    const sealed = this.pool.seal(this.batch);
    this.batch = [];
    // The sealer has read the slab once its batch is sealed: it may be filled again.
    sealed.then(() => this.freeSlabs.push(slab)).catch(() => undefined);
    this.inFlight.push(sealed);
  }

  private threads(): number {
    return this.ctx.threads ?? this.ctx.repo.workerThreads;
  }
}

/**
 * Iterates `source`, rejecting with INTERRUPTED as soon as `signal` aborts, mid-wait included.
 * Each wait listens to the signal only while it lasts. Not Promise.race against one promise
 * that rejects on abort: every race leaves a reaction on that promise for as long as it is
 * pending — the whole backup — and each reaction keeps its race's result, the data read, so a
 * 1 GiB stream held ≈ 1.2 GiB of memory at its end.
 */
async function* untilAborted<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  if (!signal) {
    yield* source;
    return;
  }
  throwIfAborted(signal);
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextUnlessAborted(iterator, signal);
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    // Stops the source (a Readable is destroyed); a pending read may settle later, unobserved.
    if (signal.aborted) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

function nextUnlessAborted<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(interrupted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void iterator
      .next()
      .finally(() => signal.removeEventListener('abort', onAbort))
      .then(resolve, reject);
  });
}
