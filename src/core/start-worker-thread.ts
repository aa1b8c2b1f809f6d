/**
 * Starting a pool's worker thread the same way everywhere, with a small young generation, and how
 * many of them by default.
 */
import { availableParallelism } from 'node:os';
import { Worker, type Transferable } from 'node:worker_threads';

/**
 * The young generation of a worker's V8 heap, in MiB. V8's default (three 16 MiB semi-spaces'
 * worth) lets each worker's heap grow to ≈ 25–45 MiB although what a worker keeps alive is a few
 * MiB: its large data lives in buffers outside the heap. Measured on the kernel tree: peak RSS of
 * `check --read-data` −60 MiB, of a backup −25 MiB, with no change in time (more, cheaper
 * scavenges).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * The most worker threads a backup, restore or check starts by default, whatever the number of
 * cores. Their main thread's own work is 17–20 % of the CPU of each (kernel tree: backup 1.75–2.2
 * of 8.6–11.9 s, restore 1.2 of 6.6–7.1, `check --read-data` 0.6 of 3.0–3.2), so past ≈ 4–5
 * workers it is the main thread that bounds them, while each worker holds 30–45 MiB at the peak
 * (docs/benchmarks-history.md, part S): 8 leaves room for cheaper files and more I/O wait and
 * bounds a 64-core host at ≈ 300 MiB of workers instead of ≈ 2.5 GiB. `--threads` sets up to 256.
 */
export const DEFAULT_WORKER_THREADS_MAX = 8;

/** One worker thread per core, at most DEFAULT_WORKER_THREADS_MAX. */
export function defaultWorkerThreads(): number {
  return Math.min(availableParallelism(), DEFAULT_WORKER_THREADS_MAX);
}

/** Worker threads this process has started (all pools): what tests check a thread bound with. */
let started = 0;

export function workerThreadsStarted(): number {
  return started;
}

/**
 * A worker running the module at `entry` (a compiled worker entry beside its pool in dist/);
 * `transferList` moves objects in `workerData` (a MessagePort) to it.
 */
export function startWorkerThread(
  entry: URL,
  workerData: unknown,
  transferList: readonly Transferable[] = [],
): Worker {
  started++;
  return new Worker(entry, {
    workerData,
    transferList: [...transferList],
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
}
