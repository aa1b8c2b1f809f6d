/**
 * End to end: backups of a stream — standard input, or a command's output. A successful stream
 * becomes a one-file snapshot whose content `dump` returns byte for byte; a command that fails
 * (non-zero exit, or cannot start) writes no snapshot and exits 21.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRepo, describeResult } from '../../testing/cli-harness.js';
import { seededBytes } from '../../testing/random-data.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';

void describe('backup --stdin and --stdin-from-command', () => {
  let tmp: string;
  let repo: CliRepo;
  before(async () => {
    tmp = await makeTempDir('stdin');
    repo = new CliRepo(join(tmp, 'repo'));
    await repo.init();
  });
  after(() => removeTempDir(tmp));

  void it('--stdin stores the stream as one file that dump returns byte for byte', async () => {
    // Binary content with every byte value, larger than a chunk.
    const content = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      seededBytes(3 * 1024 * 1024, 'stdin'),
    ]);
    const summary = await repo.backup(['--stdin', '--stdin-filename', 'db.dump'], {
      stdin: content,
    });
    assert.equal(summary.files_new, 1);
    assert.equal(summary.total_bytes_processed, content.length);
    const [snapshot] = await repo.snapshots();
    assert.deepEqual(snapshot?.paths, ['/db.dump']);
    const dumped = await repo.ok(['dump', 'latest', '/db.dump']);
    assert.ok(dumped.stdoutBytes.equals(content), 'dump equals what was piped in');
    // Default file name, and an empty stream is a valid (empty) file.
    await repo.backup(['--stdin'], { stdin: '' });
    const empty = await repo.ok(['dump', 'latest', '/stdin']);
    assert.equal(empty.stdoutBytes.length, 0);
  });

  void it('a command that exits non-zero writes no snapshot and exits 21', async () => {
    const before = (await repo.snapshots()).length;
    const argv = ['backup', '--stdin-from-command', '--', 'sh', '-c', 'printf data; exit 3'];
    const r = await repo.run(argv);
    assert.equal(r.code, 21, describeResult(argv, r));
    assert.match(r.stderr, /exit code 3/);
    assert.equal((await repo.snapshots()).length, before, 'no snapshot written');
    // A command that cannot even start is the same failure.
    const missing = ['backup', '--stdin-from-command', '--', join(tmp, 'no-such-program')];
    const m = await repo.run(missing);
    assert.equal(m.code, 21, describeResult(missing, m));
    assert.equal((await repo.snapshots()).length, before, 'no snapshot written');
    await repo.ok(['check']);
  });

  void it('a successful command becomes a snapshot with its output', async () => {
    const argv = ['--stdin-from-command', '--stdin-filename', 'numbers.txt', '--'];
    const summary = await repo.backup([...argv, 'sh', '-c', 'seq 1 200000']);
    assert.equal(summary.files_new, 1);
    const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
    const dumped = await repo.ok(['dump', 'latest', '/numbers.txt']);
    assert.equal(dumped.stdout, expected);
    const [latest] = (await repo.snapshots()).slice(-1);
    assert.deepEqual(latest?.paths, ['/numbers.txt']);
  });

  void it('a long compressible stream, sealed by the file sealers, dumps back whole', async () => {
    // ≈ 69 MB of text: past the 32 MiB the main thread seals, the rest goes to the workers.
    const argv = ['--stdin-from-command', '--stdin-filename', 'long.txt', '--'];
    const summary = await repo.backup([...argv, 'seq', '1', '8000000']);
    const expected = Buffer.from(
      Array.from({ length: 8_000_000 }, (_, i) => `${i + 1}\n`).join(''),
    );
    assert.equal(summary.total_bytes_processed, expected.length);
    const dumped = await repo.ok(['dump', 'latest', '/long.txt']);
    assert.ok(dumped.stdoutBytes.equals(expected), 'dump equals the command output');
    await repo.ok(['check', '--read-data']);
  });

  void it('--stdin with paths, or with --stdin-from-command, is a usage error', async () => {
    const both = await repo.run(['backup', '--stdin', '--stdin-from-command', '--', 'true']);
    assert.equal(both.code, 2, both.stderr);
    const withPath = await repo.run(['backup', '--stdin', tmp]);
    assert.equal(withPath.code, 2, withPath.stderr);
  });
});
