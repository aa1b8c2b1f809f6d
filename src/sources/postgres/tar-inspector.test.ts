import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspectTar, TarInspector } from './tar-inspector.js';

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  await Promise.resolve();
}

void describe('TarInspector', () => {
  void it('keeps the asked-for members and a prefix, whatever the chunking, and passes bytes through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-tar-'));
    try {
      await mkdir(join(dir, 'src', 'global'), { recursive: true });
      await mkdir(join(dir, 'src', 'pg_wal'));
      await writeFile(join(dir, 'src', 'backup_label'), 'START WAL LOCATION: 0/2000028\n');
      await writeFile(join(dir, 'src', 'global', 'pg_control'), Buffer.alloc(8192, 7));
      await writeFile(join(dir, 'src', 'big'), Buffer.alloc(3 * 1024 * 1024 + 17, 1));
      await writeFile(
        join(dir, 'src', 'pg_wal', '000000010000000000000002'),
        Buffer.alloc(100_000, 9),
      );
      const tar = execFileSync('tar', ['-c', '-f', '-', '-C', join(dir, 'src'), '.'], {
        maxBuffer: 64 << 20,
      });
      for (const size of [7, 511, 512, 4096, 1 << 20]) {
        const inspector = new TarInspector({
          keep: ['backup_label', 'global/pg_control'],
          prefixOf: { match: (n) => n.startsWith('pg_wal/0'), bytes: 40 },
        });
        const out: Buffer[] = [];
        for await (const c of inspectTar(pieces(tar, size), inspector)) out.push(c);
        assert.ok(Buffer.concat(out).equals(tar));
        assert.equal(
          inspector.files.get('backup_label')?.toString(),
          'START WAL LOCATION: 0/2000028\n',
        );
        assert.ok(inspector.files.get('global/pg_control')?.equals(Buffer.alloc(8192, 7)));
        assert.ok(!inspector.files.has('big'));
        assert.equal(inspector.prefix?.name, 'pg_wal/000000010000000000000002');
        assert.ok(inspector.prefix?.bytes.equals(Buffer.alloc(40, 9)));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
