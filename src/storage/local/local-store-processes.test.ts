/**
 * LocalStore across real processes: write-once under concurrent writers that share only the
 * directory, and a writer killed with SIGKILL in the middle of a put.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fixedClock } from '../../core/index.js';
import { collect, testObject } from '../testing/conformance.js';
import { LocalStore } from './local-store.js';

const run = promisify(execFile);
const MODULE = new URL('./local-store.js', import.meta.url).href;

/** A child script that puts `size` bytes of `fill` as pack `name` and prints the outcome. */
function putScript(root: string, name: string, fill: number, size: number): string {
  return `
    const { LocalStore } = await import(${JSON.stringify(MODULE)});
    const store = new LocalStore(${JSON.stringify(root)});
    try { await store.put('pack', ${JSON.stringify(name)}, Buffer.alloc(${size}, ${fill})); console.log('ok'); }
    catch (e) { console.log(e.code); }`;
}

void describe('LocalStore across processes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'holdfast-procs-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('lets exactly one of several writer processes win a name', async () => {
    const store = new LocalStore(join(dir, 'race'));
    await store.create();
    const { name } = testObject(1);
    const size = 8 * 1024 * 1024;
    const outcomes = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (fill) => {
        const args = ['--input-type=module', '-e', putScript(store.root, name, fill, size)];
        return { fill, out: (await run(process.execPath, args)).stdout.trim() };
      }),
    );
    const winners = outcomes.filter((o) => o.out === 'ok');
    assert.equal(winners.length, 1, JSON.stringify(outcomes));
    assert.ok(outcomes.every((o) => o.out === 'ok' || o.out === 'OBJECT_EXISTS'));
    const stored = await store.get('pack', name);
    assert.ok(stored.equals(Buffer.alloc(size, winners[0]?.fill ?? -1)), 'winner content intact');
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });

  void it('a writer killed mid-put leaves no object, and the name can be put later', async () => {
    const store = new LocalStore(join(dir, 'crash'));
    await store.create();
    const { name } = testObject(2);
    const size = 256 * 1024 * 1024;
    const tmp = join(store.root, 'tmp');
    // Kill as soon as the tmp file appears: the put is then between open and link.
    const watcher = watch(tmp);
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', putScript(store.root, name, 7, size)],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    watcher.once('change', () => child.kill('SIGKILL'));
    assert.equal(await exited, null, 'child was killed, not finished');
    watcher.close();

    assert.equal(await store.stat('pack', name), undefined, 'no partial object');
    assert.equal((await readdir(tmp)).length, 1, 'the killed writer left its tmp file');
    assert.deepEqual(await collect(store.list('pack')), []);

    const obj = { name, data: Buffer.alloc(1000, 9) };
    await store.put('pack', obj.name, obj.data);
    assert.ok((await store.get('pack', name)).equals(obj.data));
    const later = new LocalStore(store.root, {
      clock: fixedClock(new Date(Date.now() + 7_200_000)),
    });
    assert.equal(await later.cleanTmp(3_600_000), 1);
    assert.deepEqual(await readdir(tmp), []);
  });
});
