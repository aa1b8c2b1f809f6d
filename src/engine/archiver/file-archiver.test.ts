/**
 * FileArchiver's hand-over of a changed file's earlier blobs to the file sealers
 * (FileTask.stored): only the ids the repository holds, so a blob the parent names but the
 * repository lost (a pack removed by a repair) is sealed and stored again, not just named.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { statEntry } from '../../sources/index.js';
import { MemoryStore } from '../../storage/index.js';
import { chunkIds } from '../../testing/chunk-ids.js';
import type { Node } from '../format/index.js';
import { Repository } from '../repository/index.js';
import { newCounters } from './backup-progress.js';
import { FileArchiver } from './file-archiver.js';

void test('a changed file gets sealed again what its parent names but the repository lacks', async () => {
  const root = await mkdtemp(join(tmpdir(), 'holdfast-file-archiver-'));
  const repo = await Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
  });
  const writer = repo.writer();
  const problems = { error: () => undefined, warning: () => undefined };
  const files = new FileArchiver({ repo, writer, threads: 1 }, newCounters(), problems);
  files.start();
  try {
    const content = randomBytes(5 * 1024 * 1024);
    const path = join(root, 'f');
    await writeFile(path, content);
    const entry = await statEntry(Buffer.from(path));
    const ids = chunkIds(repo, content);
    assert.ok(ids.length >= 2);
    // A parent from before the file changed (another mtime) naming the same blobs, none of
    // which this repository holds.
    const parent = { ...entry, name: Buffer.from('f'), mtimeNs: 1n, content: ids } as Node;
    const node = await files.archive(Buffer.from(path), entry, parent).result;
    await writer.flush();
    assert.deepEqual(node?.content, ids);
    for (const id of ids) assert.ok(repo.index.has(id), `blob ${id} stored`);
  } finally {
    await files.close();
    await rm(root, { recursive: true, force: true });
  }
});
