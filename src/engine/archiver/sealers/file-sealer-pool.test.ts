import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errnoCode, isHoldfastError } from '../../../core/index.js';
import { statEntry, type FsEntry } from '../../../sources/index.js';
import { MemoryStore } from '../../../storage/index.js';
import { chunkIds } from '../../../testing/chunk-ids.js';
import { Repository, type BlobWriter } from '../../repository/index.js';
import { FileSealerPool } from './file-sealer-pool.js';
import { fileSealersMade } from './native-file-sealer.js';

async function newPool(
  signal?: AbortSignal,
  size = 1,
): Promise<{ pool: FileSealerPool; repo: Repository; writer: BlobWriter }> {
  const repo = await Repository.init(new MemoryStore(), 'pw', {
    owner: { username: 'u', hostname: 'h' },
    kdfCost: { N: 1024, r: 8, p: 1 },
    packSize: 4 * 1024 * 1024,
  });
  const writer = repo.writer();
  const pool = new FileSealerPool({
    writer,
    idKey: repo.idKey,
    chunkerKey: repo.chunkerKey,
    chunkerParams: repo.chunkerParams,
    size,
    ...(signal && { signal }),
  });
  return { pool, repo, writer };
}

void describe('FileSealerPool', () => {
  let root = '';
  let file: FsEntry;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-pool-'));
    await writeFile(join(root, 'f'), 'hello');
    file = await statEntry(Buffer.from(join(root, 'f')));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('saves a file and reports system errors per file, with their errno code', async () => {
    const { pool, repo } = await newPool();
    try {
      const saved = pool.save(file.path, file);
      const missing = pool.save(Buffer.from(join(root, 'missing')), file);
      const dir = pool.save(Buffer.from(root), file);
      const ok = await saved;
      assert.equal(ok.bytes, 5);
      assert.equal(ok.changedWhileReading, false);
      assert.deepEqual(ok.content, [repo.blobId('data', Buffer.from('hello'))]);
      await assert.rejects(missing, (e) => errnoCode(e) === 'ENOENT');
      await assert.rejects(dir, (e) => errnoCode(e) === 'EISDIR');
    } finally {
      await pool.close();
    }
  });

  void it('flags a file whose size or mtime differ from the walk as changed while read', async () => {
    const { pool } = await newPool();
    try {
      const grown = await pool.save(file.path, { ...file, size: 4 });
      assert.equal(grown.changedWhileReading, true);
      const touched = await pool.save(file.path, { ...file, mtimeNs: file.mtimeNs + 1n });
      assert.equal(touched.changedWhileReading, true);
    } finally {
      await pool.close();
    }
  });

  void it('stores a file spanning many slabs and packs intact while slabs are reused', async () => {
    // 40 MiB incompressible: ten 4 MiB slabs' worth, in 4 MiB packs, so slabs go back to the
    // sealer and are sealed into again while earlier packs are still being stored.
    const content = randomBytes(40 * 1024 * 1024);
    await writeFile(join(root, 'large'), content);
    const large = await statEntry(Buffer.from(join(root, 'large')));
    const { pool, repo, writer } = await newPool();
    try {
      const saved = await pool.save(large.path, large);
      await writer.flush();
      assert.equal(saved.bytes, content.length);
      const parts: Buffer[] = [];
      for (const id of saved.content) parts.push(await repo.loadBlob('data', id));
      assert.ok(Buffer.concat(parts).equals(content));
    } finally {
      await pool.close();
    }
  });

  void it('names the chunks whose ids the task lists as stored, without sealing them', async () => {
    // Three chunks or more (512 KiB minimum); the caller promises the repository holds the
    // listed ids. Here it does not, so what was sealed shows in the index: all but those.
    const content = randomBytes(6 * 1024 * 1024);
    await writeFile(join(root, 'changed'), content);
    const changed = await statEntry(Buffer.from(join(root, 'changed')));
    const { pool, repo, writer } = await newPool();
    try {
      const ids = chunkIds(repo, content);
      assert.ok(ids.length >= 3);
      const stored = [ids[0]!, ids[2]!];
      const saved = await pool.save(changed.path, changed, undefined, stored);
      await writer.flush();
      assert.deepEqual(saved.content, ids);
      assert.deepEqual(
        ids.map((id) => repo.index.has(id)),
        ids.map((id) => !stored.includes(id)),
      );
    } finally {
      await pool.close();
    }
  });

  void it('rejects everything queued with INTERRUPTED on abort', async () => {
    const controller = new AbortController();
    const { pool } = await newPool(controller.signal);
    try {
      const files = Array.from({ length: 200 }, () => pool.save(file.path, file));
      controller.abort();
      const results = await Promise.allSettled(files);
      assert.ok(results.some((r) => r.status === 'rejected'));
      for (const r of results)
        if (r.status === 'rejected') assert.ok(isHoldfastError(r.reason, 'INTERRUPTED'));
      await assert.rejects(pool.ready(), (e) => isHoldfastError(e, 'INTERRUPTED'));
    } finally {
      await pool.close();
    }
  });

  void it('starts a second sealer for a backlog, not for files one sealer keeps up with', async () => {
    // A trickle (each file saved once the one before is done, as the changed files of an
    // incremental backup mostly come) stays on one sealer, even in bursts of a few files.
    const trickle = await newPool(undefined, 2);
    let started = fileSealersMade();
    try {
      for (let i = 0; i < 20; i++) await trickle.pool.save(file.path, file);
      await Promise.all(Array.from({ length: 30 }, () => trickle.pool.save(file.path, file)));
      assert.equal(fileSealersMade() - started, 1);
    } finally {
      await trickle.pool.close();
    }
    // Files queued far faster than one sealer reads them (an initial backup) start both.
    const flood = await newPool(undefined, 2);
    started = fileSealersMade();
    try {
      await Promise.all(Array.from({ length: 600 }, () => flood.pool.save(file.path, file)));
      assert.equal(fileSealersMade() - started, 2);
    } finally {
      await flood.pool.close();
    }
  });
});
