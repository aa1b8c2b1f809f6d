/** Starting a pool's worker thread the same way everywhere, with a small young generation. */
import { Worker, type Transferable } from 'node:worker_threads';

/**
 * The young generation of a worker's V8 heap, in MiB. V8's default (three 16 MiB semi-spaces'
 * worth) lets each worker's heap grow to ≈ 25–45 MiB although what a worker keeps alive is a few
 * MiB: its large data lives in buffers outside the heap. Measured on the kernel tree: peak RSS of
 * `check --read-data` −60 MiB, of a backup −25 MiB, with no change in time (more, cheaper
 * scavenges).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

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
