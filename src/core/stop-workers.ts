/** Stopping a pool's worker threads the same way everywhere: ask, then wait for each exit. */
import type { Worker } from 'node:worker_threads';

/**
 * Posts `stop` to each worker and resolves once every one has exited (a worker closes what it
 * holds, then its port). Pass only workers that have not exited yet.
 */
export function stopWorkers(workers: readonly Worker[], stop: unknown): Promise<void> {
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          worker.once('exit', () => resolve());
          worker.postMessage(stop);
        }),
    ),
  ).then(() => undefined);
}
