/**
 * Native threads left busy in a worker thread that is then terminated must end with the
 * worker's environment, and the process must exit normally. Runs `workerBody` (an ES module's
 * text, posting a message once its threads are busy) in a worker of a child process, terminates
 * the worker on that message and resolves once the child printed that it ended. The child has a
 * timeout, so a thread never stopped (a hang) or freed memory still in use (a crash) fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export async function assertEndsWithTerminatedWorker(workerBody: string): Promise<void> {
  const script = `
    import { Worker } from 'node:worker_threads';
    const worker = new Worker(${JSON.stringify(workerBody)}, { eval: true });
    worker.once('message', async () => {
      await worker.terminate();
      console.log('ended');
    });`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script],
    { timeout: 60_000 },
  );
  assert.equal(stdout.trim(), 'ended');
}
