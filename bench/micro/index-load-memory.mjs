// Synthetic benchmark: process memory while a repository's index is loaded (`loadIndex`), per
// blob, for an index of N blobs in index files as backups write them (32 packs of 13 blobs per
// file). Writes the repository once under bench/.data/index-load-N (reused), then opens it in a
// fresh process and samples RSS every 10 ms during loadIndex. Run after `npx tsc -p .`:
//   node bench/micro/index-load-memory.mjs [millions=1]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const millions = Number(process.argv[2] ?? 1);
const blobs = Math.round(millions * 1e6);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'bench', '.data', `index-load-${millions}m`);
const { LocalStore } = await import(join(root, 'dist/storage/index.js'));
const { Repository } = await import(join(root, 'dist/engine/index.js'));
const { encodeIndexFile } = await import(join(root, 'dist/engine/format/index.js'));
const { fileIdOf } = await import(join(root, 'dist/engine/crypto/index.js'));

if (process.argv[3] === 'load') {
  const repo = await Repository.open(new LocalStore(dir), 'pw');
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const t = performance.now();
  await repo.loadIndex();
  const seconds = (performance.now() - t) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const after = process.memoryUsage().rss;
  globalThis.gc?.();
  const held = process.memoryUsage();
  console.log(`blobs                 ${repo.index.size.toLocaleString('en')}`);
  console.log(`loadIndex             ${seconds.toFixed(2)} s`);
  console.log(`peak RSS growth       ${((peak - base) / blobs).toFixed(0)} B per blob`);
  console.log(`RSS growth after      ${((after - base) / blobs).toFixed(0)} B per blob`);
  console.log(
    `held after GC         ${((held.heapUsed + held.arrayBuffers) / blobs).toFixed(0)} B per blob (heap + array buffers)`,
  );
  console.log(`index                 ${(repo.index.memoryBytes() / blobs).toFixed(1)} B per blob`);
  process.exit(0);
}

if (!existsSync(join(dir, 'config'))) {
  console.log(`writing ${blobs.toLocaleString('en')} blobs of index to ${dir}`);
  const store = new LocalStore(dir);
  const repo = await Repository.init(store, 'pw', {
    owner: { username: 'bench', hostname: 'bench' },
    kdfCost: { N: 1024, r: 8, p: 1 },
  });
  // Index files are written directly (no packs behind them), which needs the master key.
  const masterKey = repo['masterKey'];
  let n = 0;
  while (n < blobs) {
    const packs = [];
    for (let p = 0; p < 32 && n < blobs; p++) {
      const entries = [];
      for (let j = 0; j < 13 && n < blobs; j++, n++)
        entries.push({
          type: 'data',
          id: randomBytes(32).toString('hex'),
          offset: j * 1_200_000,
          length: 1_200_000,
          rawLength: 1_250_000,
          compression: 1,
        });
      packs.push({ packId: randomBytes(32).toString('hex'), entries });
    }
    const file = encodeIndexFile(masterKey, { supersedes: [], packs });
    await store.put('index', fileIdOf(file), file);
  }
}
execFileSync(
  process.execPath,
  ['--expose-gc', fileURLToPath(import.meta.url), String(millions), 'load'],
  {
    stdio: 'inherit',
  },
);
