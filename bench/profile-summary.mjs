#!/usr/bin/env node
// Summarises a V8 CPU profile (node --cpu-prof) by self time: the top functions and a grouping
// by category (zstd, crypto, fs, GC, chunker, ...). Usage: node bench/profile-summary.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fnTotals = new Map();
for (const [id, us] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const where = cf.url
    ? `${cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`
    : '';
  const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
}
const ms = (us) => (us / 1000).toFixed(0).padStart(7) + ' ms';
console.log(`total sampled ${ms(total)}`);
const top = Number(topArg ?? 25);
for (const [k, us] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${ms(us)} ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
