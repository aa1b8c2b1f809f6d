// Where a holdfast command's CPU goes, from Linux perf samples of the whole process: grouped by
// thread (main, worker threads, helper threads: libuv's pool and V8's) and by what the sampled
// function belongs to (zstd, SHA-256, AES-GCM, the kernel, garbage collection, the optimizing
// compiler, JavaScript, ...). The table in docs/benchmarks.md ("Where the time goes") was made
// with it. `node --cpu-prof` (bench/profile-summary.mjs) sees JavaScript only; perf sees native
// code, the kernel and V8's own threads as well.
//
// Usage (linux-perf from Debian; JavaScript frames are named from node's --perf-basic-prof map):
//   NODE_OPTIONS=--perf-basic-prof perf record -F 999 -g -o perf.data -- dist/bin/holdfast.js ...
//   perf script -i perf.data -F tid,ip,sym,dso | node bench/perf-summary.mjs
import { createInterface } from 'node:readline';

// A worker thread is one whose stacks pass through one of the bundled worker scripts.
const WORKER_SCRIPT = /(file|restore)-worker\.js/;

/** The category of a sample's innermost frame. */
function categoryOf(sym, dso) {
  if (/zstd|binding\.node/.test(dso) || /^(ZSTD|HUF|FSE|HIST)_/.test(sym)) return 'zstd';
  if (/sha256/.test(sym)) return 'SHA-256';
  if (/aes|ghash|gcm/i.test(sym)) return 'AES-GCM';
  if (/scrypt|salsa/i.test(sym)) return 'scrypt';
  if (/holdfast_chunker|find_cut/.test(dso + sym)) return 'cut search';
  if (/kernel/.test(dso)) return 'kernel';
  if (/Scaveng|Mark|Sweep|Concurrent|Evacuat|Heap::|GC|Compactor|RememberedSet|Unmapper/.test(sym))
    return 'garbage collection';
  if (/compiler::|maglev/i.test(sym)) return 'optimizing compiler';
  if (/^JS:|^Builtins_/.test(sym) || /perf-\d+\.map/.test(dso)) return 'JavaScript';
  if (/libc/.test(dso)) return 'libc';
  return 'V8 and node, other';
}

const samples = []; // [tid, category]
const workerTids = new Set();
let pid = Infinity;
let current = null; // the sample being read: tid, its innermost frame, whether in a worker
const finish = () => {
  if (current?.category) samples.push([current.tid, current.category]);
  if (current?.worker) workerTids.add(current.tid);
};
for await (const line of createInterface({ input: process.stdin })) {
  const head = /^\s*(\d+)\s*$/.exec(line);
  if (head) {
    finish();
    const tid = Number(head[1]);
    pid = Math.min(pid, tid);
    current = { tid, category: null, worker: false };
    continue;
  }
  const frame = /^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
  if (!frame || !current) continue;
  const [, sym, dso] = frame;
  current.category ??= categoryOf(sym, dso);
  if (WORKER_SCRIPT.test(sym)) current.worker = true;
}
finish();

if (samples.length === 0) {
  console.error('no samples: pipe in `perf script -F tid,ip,sym,dso` of a perf.data');
  process.exit(2);
}
const roleOf = (tid) => (tid === pid ? 'main' : workerTids.has(tid) ? 'workers' : 'helpers');
const byRole = new Map();
for (const [tid, category] of samples) {
  const role = roleOf(tid);
  const counts = byRole.get(role) ?? new Map();
  counts.set(category, (counts.get(category) ?? 0) + 1);
  byRole.set(role, counts);
}
const pct = (n) => `${((100 * n) / samples.length).toFixed(1).padStart(5)} %`;
console.log(`${samples.length} samples; shares of all of them`);
for (const role of ['workers', 'main', 'helpers']) {
  const counts = byRole.get(role);
  if (!counts) continue;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`${role.padEnd(28)} ${pct(total)}`);
  for (const [category, n] of [...counts].sort((a, b) => b[1] - a[1]))
    if (n / samples.length >= 0.005) console.log(`  ${category.padEnd(26)} ${pct(n)}`);
}
