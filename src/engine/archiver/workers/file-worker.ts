/**
 * Entry point of a file worker thread (loaded from dist/ by FileWorkerPool). It runs one job at
 * a time, synchronously, and posts its reports; see JobRunner for the work and CreditGate for
 * the backpressure. A failure other than one file's system error ends the backup.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../../../core/index.js';
import { CreditGate } from './credit-gate.js';
import type { FileJob, FileWorkerSetup, WorkerFailure } from './file-job.js';
import { JobRunner, PoolClosed } from './job-runner.js';

const port = parentPort;
if (port === null) throw new Error('file-worker.js must run as a worker thread');
const setup = workerData as FileWorkerSetup;
const runner = new JobRunner(setup, new CreditGate(setup.credit, setup.creditWindow), (report) =>
  port.postMessage(report),
);

port.on('message', (job: FileJob) => {
  try {
    runner.run(job);
  } catch (err) {
    if (err instanceof PoolClosed) return;
    const failure: WorkerFailure = {
      kind: 'failure',
      message: describeError(err),
      ...(err instanceof Error && err.stack !== undefined && { stack: err.stack }),
    };
    port.postMessage(failure);
  }
});
