/**
 * Many writers, no lost data: concurrent backup loops of two hosts while forget --prune runs in a
 * loop, then every remaining snapshot must restore byte for byte and check --read-data pass.
 * Prune killed with SIGKILL at random moments must leave a repository that checks clean and
 * whose kept snapshots restore; the next prune finishes the job.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBinary, spawnBinary, waitForExit, type BinaryResult } from '../../testing/binary.js';
import { seededBytes } from '../../testing/random-data.js';
import { makeTempDir, removeTempDir } from '../../testing/temp-dir.js';
import { describeWithS3, s3Env, s3Location, uniqueBucket } from '../../testing/s3-server.js';

const HOSTS = ['alpha', 'beta'];
const RUN_MS = 25_000;

/** The content of host `h`'s source at iteration `i`: shared, slowly changing and fresh files. */
function contentFor(h: string, i: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let k = 0; k < 4; k++) files.set(`stable-${k}`, seededBytes(60_000, `${h}-stable-${k}`));
  files.set('slow', seededBytes(200_000, `${h}-slow-${Math.floor(i / 3)}`));
  files.set('fresh', seededBytes(150_000 + i * 997, `${h}-fresh-${i}`));
  files.set('everyone', seededBytes(80_000, 'shared-by-all-hosts'));
  return files;
}

async function writeSource(dir: string, files: Map<string, Buffer>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, data] of files) await writeFile(join(dir, name), data);
}

/** The suite, against the local repository (`extraEnv` undefined) or an S3 bucket. */
function manyWriters(
  name: string,
  backend: { env: (root: string) => Record<string, string>; local: boolean },
): void {
  void describe(name, { timeout: 300_000 }, () => {
    let root: string;
    let env: Record<string, string>;
    const hb = (argv: string[]): Promise<BinaryResult> => runBinary(argv, { env });
    const ok = async (argv: string[]): Promise<BinaryResult> => {
      const r = await hb(argv);
      assert.equal(r.code, 0, `holdfast ${argv.join(' ')} exited ${r.code}:\n${r.stderr}`);
      return r;
    };

    before(async () => {
      root = await makeTempDir('writers');
      env = { HOLDFAST_PASSWORD: 'many writers', ...backend.env(root) };
      await ok(['init']);
    });
    after(async () => removeTempDir(root));

    /** Restores each snapshot and compares it with the content its host and tag say it had. */
    async function verifyAllSnapshots(): Promise<number> {
      const list = JSON.parse((await ok(['snapshots', '--json'])).stdout) as {
        id: string;
        hostname: string;
        tags: string[];
        paths: string[];
      }[];
      for (const s of list) {
        const i = Number(s.tags[0]!.slice(3));
        const target = join(root, 'restore', s.id);
        await ok(['restore', s.id, '--target', target]);
        const dir = join(target, s.paths[0]!);
        const expected = contentFor(s.hostname, i);
        assert.deepEqual(
          (await readdir(dir)).sort(),
          [...expected.keys()].sort(),
          `files of snapshot ${s.id}`,
        );
        for (const [name, data] of expected)
          assert.ok(
            (await readFile(join(dir, name))).equals(data),
            `${s.hostname} it-${i} ${name}`,
          );
        await rm(target, { recursive: true, force: true });
      }
      return list.length;
    }

    void it('loses nothing while backups and forget --prune run at the same time', async () => {
      const deadline = Date.now() + RUN_MS;
      let pruned = 0;
      const backups = HOSTS.map(async (h) => {
        const src = join(root, 'src', h);
        let i = 0;
        for (; Date.now() < deadline; i++) {
          await writeSource(src, contentFor(h, i));
          await ok(['backup', '--host', h, '--tag', `it-${i}`, src]);
        }
        return i;
      });
      const pruner = (async () => {
        while (Date.now() < deadline) {
          const r = await ok([
            '--retry-lock',
            '2m',
            'forget',
            '--group-by',
            'host',
            '--keep-last',
            '2',
            '--prune',
            '--max-unused',
            '0%',
            '--json',
          ]);
          for (const line of r.stdout.split('\n')) {
            if (line.includes('"packs_deleted"'))
              pruned += (JSON.parse(line) as { packs_deleted: number }).packs_deleted;
          }
        }
      })();
      const counts = await Promise.all(backups);
      await pruner;
      assert.ok(
        counts.every((n) => n >= 3),
        `each host backed up several times (${counts.join(', ')})`,
      );
      assert.ok(pruned > 0, 'the prune loop really deleted packs');
      await ok(['prune', '--max-unused', '0%']);
      const check = await ok(['check', '--read-data']);
      assert.match(check.stdout, /no errors were found/);
      assert.ok((await verifyAllSnapshots()) >= HOSTS.length);
    });

    void it(
      'survives SIGKILL at any moment of a prune, and the next prune finishes',
      { skip: !backend.local && 'pack counting reads the local layout' },
      async () => {
        const src = join(root, 'src', 'kill');
        for (let i = 0; i < 6; i++) {
          await writeSource(src, contentFor('alpha', 1000 + i));
          await ok(['backup', '--host', 'alpha', '--tag', `it-${1000 + i}`, src]);
        }
        await ok(['forget', '--host', 'alpha', '--group-by', 'host', '--keep-last', '1']);
        const packsBefore = (await readdir(join(root, 'repo', 'data'), { recursive: true })).length;
        for (const delay of [30, 120, 250, 400, 600, 900]) {
          const child = spawnBinary(['prune', '--max-unused', '0%'], { env });
          const done = waitForExit(child);
          await new Promise((r) => setTimeout(r, delay));
          child.kill('SIGKILL');
          await done;
          const check = await hb(['check', '--read-data']);
          assert.equal(check.code, 0, `check after SIGKILL at ${delay} ms:\n${check.stderr}`);
          await verifyAllSnapshots();
        }
        await ok(['prune', '--max-unused', '0%']);
        const check = await ok(['check', '--read-data']);
        assert.doesNotMatch(check.stderr, /not referenced by any index/);
        const packsAfter = (await readdir(join(root, 'repo', 'data'), { recursive: true })).length;
        assert.ok(packsAfter < packsBefore, `packs went from ${packsBefore} to ${packsAfter}`);
      },
    );
  });
}

manyWriters('many writers and a concurrent prune (local)', {
  env: (root) => ({ HOLDFAST_REPOSITORY: join(root, 'repo') }),
  local: true,
});

describeWithS3('many writers on S3', (server) => {
  manyWriters('many writers and a concurrent prune (S3)', {
    env: () => ({
      ...s3Env(server),
      HOLDFAST_REPOSITORY: s3Location(server, uniqueBucket('writers')),
    }),
    local: false,
  });
});
