// Synthetic benchmark: memory of the master index per blob, and lookup speed, at N blobs
// (issue 6 asks for 10 million; restic needs 56 B per blob). Blobs come in packs of 13, the
// kernel tree's average. Run after `npx tsc -p .`:
//   node --expose-gc bench/micro/index-memory.mjs [millions=10] [grow]
// By default the entries are reserved up front, as loading the index does (its size is known from
// the index files); with "grow" the index grows as a backup adds packs one by one. Reports the growth of V8 heap + ArrayBuffer memory (what the index holds) and of RSS.
import { randomBytes } from 'node:crypto';
import { MasterIndex } from '../../dist/engine/index/master-index.js';

if (typeof gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const blobs = Math.round(Number(process.argv[2] ?? 10) * 1e6);
const PER_PACK = 13;

function used() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { held: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

const ids = randomBytes(32 * 4096); // recycled id material, mixed with a counter below
function idOf(i) {
  const b = Buffer.from(ids.subarray((i % 4096) * 32, (i % 4096) * 32 + 32));
  b.writeUInt32LE(i, 0);
  b.writeUInt32LE(i ^ 0x5bd1e995, 28);
  return b.toString('hex');
}

const before = used();
const index = new MasterIndex();
const growing = process.argv[3] === 'grow';
if (!growing) index.reserve(blobs, Math.ceil(blobs / PER_PACK));
const t0 = process.hrtime.bigint();
for (let p = 0; p * PER_PACK < blobs; p++) {
  const entries = [];
  for (let j = 0; j < PER_PACK && p * PER_PACK + j < blobs; j++)
    entries.push({
      type: 'data',
      id: idOf(p * PER_PACK + j),
      offset: j * 1_200_000,
      length: 1_200_000,
      rawLength: 1_250_000,
      compression: 1,
    });
  index.addPack(randomBytes(32).toString('hex'), entries);
}
const addSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
// Loading the index ends with a compaction; a backup compacts as it goes.
const tc = process.hrtime.bigint();
if (!growing) index.compact();
const compactSeconds = Number(process.hrtime.bigint() - tc) / 1e9;
const after = used();

const probes = 1_000_000;
const t1 = process.hrtime.bigint();
let found = 0;
for (let i = 0; i < probes; i++) if (index.has(idOf((i * 7919) % blobs))) found++;
const lookupNs = Number(process.hrtime.bigint() - t1) / probes;
if (found !== probes) throw new Error(`only ${found} of ${probes} lookups found their blob`);

const perBlob = (after.held - before.held) / blobs;
const rssPerBlob = (after.rss - before.rss) / blobs;
console.log(
  `blobs                 ${blobs.toLocaleString('en')} in ${index.packCount.toLocaleString('en')} packs, ${growing ? 'growing' : 'reserved as when loaded'}`,
);
console.log(
  `index memory          ${perBlob.toFixed(1)} B per blob (heap + array buffers, after GC)`,
);
console.log(`RSS growth            ${rssPerBlob.toFixed(1)} B per blob`);
console.log(`adding                ${(blobs / addSeconds / 1e6).toFixed(2)} M blobs/s`);
if (!growing) console.log(`compacting            ${compactSeconds.toFixed(2)} s`);
console.log(`lookup (has)          ${lookupNs.toFixed(0)} ns, id string included`);
