import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CreditGate } from './credit-gate.js';

void test('a worker blocks in take until the main thread gives credit back', async () => {
  const gate = CreditGate.create(100);
  const url = new URL('./credit-gate.js', import.meta.url).href;
  // The worker takes 60 twice: the second take must wait for give().
  const worker = new Worker(
    `const { CreditGate } = await import(${JSON.stringify(url)});
     const { parentPort, workerData } = await import('node:worker_threads');
     const gate = new CreditGate(workerData, 100);
     gate.take(60); parentPort.postMessage('first');
     gate.take(60); parentPort.postMessage('second');
     parentPort.postMessage(gate.take(60) ? 'third' : 'closed');`,
    { eval: true, workerData: gate.shared },
  );
  const messages: string[] = [];
  const next = (): Promise<string> =>
    new Promise((resolve) => worker.once('message', (m: string) => resolve(m)));
  messages.push(await next());
  const second = next();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(messages, ['first'], 'second take must block');
  gate.give(60);
  messages.push(await second);
  const third = next();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gate.close();
  messages.push(await third);
  assert.deepEqual(messages, ['first', 'second', 'closed']);
  await worker.terminate();
});

void test('a take larger than the window waits for the whole window only', () => {
  const gate = CreditGate.create(10);
  assert.equal(gate.take(25), true);
  gate.give(25);
  assert.equal(gate.take(10), true);
});
