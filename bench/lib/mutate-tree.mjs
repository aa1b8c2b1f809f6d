// Changes ~2% of the regular files of a tree in place, deterministically (seeded): ~1% edited
// (a line inserted in the middle, the rest of the file shifts, as a real edit), ~0.5% removed and
// ~0.5% added (a new file beside an existing one, made of a mix of it and new text). Changed and
// added files get a fixed mtime, so every run and every tool sees the same tree.
// Usage: node mutate-tree.mjs DIR SEED
import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './prng.mjs';

const [dir, seed] = process.argv.slice(2);
const random = seededRandom(seed);
const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile()) files.push(p);
  }
})(dir);

const when = new Date('2024-06-01T00:00:00Z');
let edited = 0;
let removed = 0;
let added = 0;
for (const path of files) {
  const r = random();
  if (r < 0.01) {
    const data = readFileSync(path);
    const at = Math.floor(data.length / 2);
    const line = Buffer.from(`/* holdfast bench edit ${Math.floor(random() * 1e9)} */\n`);
    writeFileSync(path, Buffer.concat([data.subarray(0, at), line, data.subarray(at)]));
    utimesSync(path, when, when);
    edited++;
  } else if (r < 0.015) {
    rmSync(path);
    removed++;
  } else if (r < 0.02) {
    const data = readFileSync(path);
    const extra = Buffer.from(
      `added by the holdfast bench ${Math.floor(random() * 1e9)}\n`.repeat(8),
    );
    const added_ = `${path}.bench-added`;
    writeFileSync(added_, Buffer.concat([extra, data.subarray(0, data.length >> 1)]));
    utimesSync(added_, when, when);
    added++;
  }
}
console.log(`${files.length} files: ${edited} edited, ${removed} removed, ${added} added`);
