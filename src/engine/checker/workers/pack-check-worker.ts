/**
 * Entry point of a pack check worker thread (loaded from dist/ by PackCheckPool): checks one
 * whole pack per message, synchronously (checkPackFrom). A pack given as a file is read front to
 * back a window at a time into a buffer reused across packs (CHECK_WINDOW, or the largest blob
 * met so far); decompressed blobs go to a second reused buffer.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, type PackId } from '../../../core/index.js';
import { IndexRecords } from '../../format/index.js';
import {
  CHECK_WINDOW,
  checkPack,
  checkPackFrom,
  type PackCheckOutcome,
  type PackReader,
} from '../pack-check.js';
import type { FromWorker, PackCheckSetup, PackTask, ToWorker } from './pack-check-job.js';

const port = parentPort;
if (port === null) throw new Error('pack-check-worker.js must run as a worker thread');
const setup = workerData as PackCheckSetup;
const keys = { masterKey: Buffer.from(setup.masterKey), idKey: Buffer.from(setup.idKey) };
let window = Buffer.allocUnsafeSlow(CHECK_WINDOW);
const scratch = Buffer.allocUnsafeSlow(16 * 1024 * 1024);

/** The pack's file could not be opened or read: the pack is unreadable, not damaged. */
class FileUnreadable extends Error {}

/** `length` bytes at `offset` of `fd` in the reused window: fewer only where the file ends. */
function readWindow(fd: number, offset: number, length: number): Buffer {
  if (window.length < length) window = Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, window, done, length - done, offset + done);
    if (n === 0) break; // shorter than it was a moment ago: what was read is checked
    done += n;
  }
  return window.subarray(0, done);
}

/** Checks the pack whose file `msg` names, read through the reused window. */
function checkFile(msg: PackTask): PackCheckOutcome {
  const fd = readingFile(() => openSync(msg.file!, 'r'));
  try {
    const { size } = readingFile(() => fstatSync(fd));
    const read: PackReader = (offset, length) => readingFile(() => readWindow(fd, offset, length));
    return checkPackFrom(
      keys,
      msg.pack as PackId,
      size,
      read,
      IndexRecords.of(msg.entries),
      scratch,
    );
  } finally {
    closeSync(fd);
  }
}

/** Runs a call on the pack's file; its system error makes the pack unreadable (FileUnreadable). */
function readingFile<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw new FileUnreadable(describeError(err));
  }
}

function handle(msg: PackTask): FromWorker {
  if (msg.bytes !== undefined) {
    const outcome = checkPack(
      keys,
      msg.pack as PackId,
      Buffer.from(msg.bytes),
      IndexRecords.of(msg.entries),
      scratch,
    );
    return { kind: 'checked', task: msg.task, outcome };
  }
  try {
    return { kind: 'checked', task: msg.task, outcome: checkFile(msg) };
  } catch (err) {
    // Anything else is a bug, and ends the check (the message handler below).
    if (!(err instanceof FileUnreadable)) throw err;
    return { kind: 'unreadable', task: msg.task, message: err.message };
  }
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
