/**
 * Entry point of a restore file worker thread (loaded from dist/ by RestoreWorkerPool). Handles
 * messages one at a time, synchronously, and answers each with a report (large writes that
 * complete later send reports of their own); see BatchWriter. A failure other than one file's or
 * one blob's ends the restore.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../../../core/index.js';
import { BatchWriter } from './batch-writer.js';
import type { RestoreWorkerSetup, ToWorker, WorkerFailure, WorkerReport } from './restore-job.js';

const port = parentPort;
if (port === null) throw new Error('restore-worker.js must run as a worker thread');
const setup = workerData as RestoreWorkerSetup;
const writer = new BatchWriter(
  { masterKey: Buffer.from(setup.masterKey), idKey: Buffer.from(setup.idKey) },
  setup.owner,
  (report) => port.postMessage(report),
);

port.on('message', (msg: ToWorker) => {
  try {
    let report: WorkerReport;
    switch (msg.kind) {
      case 'batch':
        report = writer.start(msg);
        break;
      case 'range':
        report = writer.range(msg);
        break;
      case 'shared':
        report = writer.shared(msg);
        break;
      case 'read':
        report = writer.read(msg);
        break;
      case 'resolution':
        report = writer.resolve(msg);
        break;
      case 'stop':
        writer.closeAll(() => port.close());
        return;
    }
    port.postMessage(report);
  } catch (err) {
    const failure: WorkerFailure = {
      kind: 'failure',
      message: describeError(err),
      ...(err instanceof Error && err.stack !== undefined && { stack: err.stack }),
    };
    port.postMessage(failure);
  }
});
