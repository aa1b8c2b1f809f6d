/**
 * Entry point of a pack check worker thread (loaded from dist/ by PackCheckPool): checks one
 * whole pack per message, synchronously (checkPack), reading it first when it is given as a
 * file. Buffers are reused across packs: one for a pack's file, one for decompressed blobs.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, type PackId } from '../../../core/index.js';
import { checkPack } from '../pack-check.js';
import type { FromWorker, PackCheckSetup, PackTask, ToWorker } from './pack-check-job.js';

const port = parentPort;
if (port === null) throw new Error('pack-check-worker.js must run as a worker thread');
const setup = workerData as PackCheckSetup;
const keys = { masterKey: Buffer.from(setup.masterKey), idKey: Buffer.from(setup.idKey) };
let fileBuffer = Buffer.allocUnsafeSlow(0);
const scratch = Buffer.allocUnsafeSlow(16 * 1024 * 1024);

/** The whole file at `path`, in the reused buffer (valid until the next call). */
function readWhole(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (fileBuffer.length < size) fileBuffer = Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, fileBuffer, done, size - done, done);
      if (n === 0) break; // shorter than it was a moment ago: what was read is checked
      done += n;
    }
    return fileBuffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

function handle(msg: PackTask): FromWorker {
  let bytes: Buffer;
  if (msg.bytes !== undefined) bytes = Buffer.from(msg.bytes);
  else {
    try {
      bytes = readWhole(msg.file!);
    } catch (err) {
      return { kind: 'unreadable', task: msg.task, message: describeError(err) };
    }
  }
  const outcome = checkPack(keys, msg.pack as PackId, bytes, msg.entries, scratch);
  return { kind: 'checked', task: msg.task, outcome };
}

port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'stop') {
    port.close();
    return;
  }
  try {
    port.postMessage(handle(msg));
  } catch (err) {
    port.postMessage({
      kind: 'failure',
      message: describeError(err),
      ...(err instanceof Error && err.stack !== undefined && { stack: err.stack }),
    } satisfies FromWorker);
  }
});
