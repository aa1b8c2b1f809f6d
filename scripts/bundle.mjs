#!/usr/bin/env node
// Builds the holdfast binary, dist/bin/holdfast.js, and the worker entries it starts, from the
// TypeScript sources (run by `npm run build`, after tsc has type-checked and emitted dist/).
//
// Why a bundle: Node resolves, reads and links every ES module separately, and every command
// loaded about 250 of them — 0.12 s of each command's start-up (`holdfast --version` 0.30 s →
// 0.18 s, `snapshots` 0.65 s → 0.54 s here), paid again by every worker thread. The bundle is
// one file per entry plus shared chunks, not minified (stack traces keep their names); npm
// packages stay external and load from node_modules as before.
//
// Layout rules the code relies on: the entries sit together in dist/bin/, one level below dist/
// like the compiled modules, so `new URL('./restore-worker.js', import.meta.url)` in a chunk finds
// the worker entry beside it and native-addon.ts finds ../../build/Release/. The unbundled
// modules in dist/ (tsc's output) remain what the unit tests import; the e2e tests run this
// binary (src/testing/binary.ts).
import { build } from 'esbuild';
import { chmod, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bin');

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    holdfast: 'src/cli/main.ts',
    // Named as restore-worker-pool.ts starts them.
    'restore-worker': 'src/engine/restorer/workers/restore-worker.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
await chmod(join(outdir, 'holdfast.js'), 0o755);
