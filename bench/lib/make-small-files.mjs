// Writes COUNT small files (0-16 KiB, median ~2 KiB, half text-like, half random bytes) into
// 200 directories, deterministically (seeded). Usage: node make-small-files.mjs DIR COUNT SEED
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './prng.mjs';

const [dir, countText, seed] = process.argv.slice(2);
const count = Number(countText);
const random = seededRandom(seed);
const key = createHash('sha256').update(seed).digest();
const keystream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
const words = 'the of and to in is that for it as with was on be by at this from or an are'.split(
  ' ',
);
const when = new Date('2024-01-01T00:00:00Z');
const dirs = 200;
for (let d = 0; d < dirs; d++)
  mkdirSync(join(dir, `d${String(d).padStart(3, '0')}`), { recursive: true });
for (let i = 0; i < count; i++) {
  const size = Math.floor(16384 * random() ** 3);
  let data;
  if (random() < 0.5) {
    const parts = [];
    let length = 0;
    while (length < size) {
      const w = words[Math.floor(random() * words.length)];
      parts.push(w);
      length += w.length + 1;
    }
    data = Buffer.from(parts.join(' ')).subarray(0, size);
  } else {
    data = keystream.update(Buffer.alloc(size));
  }
  const path = join(dir, `d${String(i % dirs).padStart(3, '0')}`, `f${i}`);
  writeFileSync(path, data);
  utimesSync(path, when, when);
}
console.log(`${count} files in ${dirs} directories`);
