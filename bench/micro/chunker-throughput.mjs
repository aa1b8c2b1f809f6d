// Micro benchmark: chunker throughput on pseudo-random data (AES-256-CTR keystream), default
// params, 8 MiB pushes like the archiver's reads. Run after `npx tsc -p .`:
//   node bench/micro/chunker-throughput.mjs [MiB=256] [rounds=5]
import { createCipheriv } from 'node:crypto';
import { Chunker, DEFAULT_CHUNKER_PARAMS, chunkLengths } from '../../dist/engine/chunker/index.js';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 256) * MiB;
const rounds = Number(process.argv[3] ?? 5);
const read = 8 * MiB;

const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 0x42), Buffer.alloc(16));
const data = cipher.update(Buffer.alloc(size));
const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

function mbps(bytes, ns) {
  return (bytes / 1e6 / (Number(ns) / 1e9)).toFixed(0);
}

for (let r = 0; r < rounds; r++) {
  const chunker = new Chunker(key, DEFAULT_CHUNKER_PARAMS);
  let t = process.hrtime.bigint();
  let n = 0;
  for (let off = 0; off < size; off += read)
    n += chunker.push(data.subarray(off, off + read)).length;
  n += chunker.finish().length;
  const pushNs = process.hrtime.bigint() - t;

  t = process.hrtime.bigint();
  const lengths = chunkLengths(key, DEFAULT_CHUNKER_PARAMS, data);
  const scanNs = process.hrtime.bigint() - t;
  const avg = (size / lengths.length / MiB).toFixed(2);
  console.log(
    `round ${r}: Chunker.push ${mbps(size, pushNs)} MB/s (${n} chunks, avg ${avg} MiB), ` +
      `scan only ${mbps(size, scanNs)} MB/s`,
  );
}
