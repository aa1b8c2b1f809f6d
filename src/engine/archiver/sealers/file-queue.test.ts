import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileQueue, JOB_MAX_BYTES, JOB_MAX_FILES } from './file-queue.js';

const sizes = (job: { size: number }[]): number[] => job.map((f) => f.size);

void test('small files are batched up to the file and byte limits, in order', () => {
  const q = new FileQueue<{ size: number }>();
  for (let i = 0; i < JOB_MAX_FILES + 3; i++) q.push({ size: 10 });
  assert.equal(q.takeJob().length, JOB_MAX_FILES);
  assert.equal(q.takeJob().length, 3);
  assert.equal(q.length, 0);
  const half = JOB_MAX_BYTES / 2;
  for (const size of [half, half, 1]) q.push({ size });
  assert.deepEqual(sizes(q.takeJob()), [half, half]);
  assert.deepEqual(sizes(q.takeJob()), [1]);
});

void test('a file larger than a batch goes alone', () => {
  const q = new FileQueue<{ size: number }>();
  for (const size of [5, JOB_MAX_BYTES * 3, 7]) q.push({ size });
  assert.deepEqual(sizes(q.takeJob()), [5]);
  assert.deepEqual(sizes(q.takeJob()), [JOB_MAX_BYTES * 3]);
  assert.deepEqual(sizes(q.takeJob()), [7]);
  assert.deepEqual(q.takeJob(), []);
});

void test('drain empties the queue', () => {
  const q = new FileQueue<{ size: number }>();
  q.push({ size: 1 });
  q.push({ size: JOB_MAX_BYTES });
  q.takeJob();
  assert.deepEqual(sizes(q.drain()), [JOB_MAX_BYTES]);
  assert.equal(q.length, 0);
});
