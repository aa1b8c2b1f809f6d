// Writes SIZE incompressible bytes (the AES-256-CTR keystream of a key derived from SEED) to PATH,
// with a fixed mtime. Usage: node make-random-file.mjs PATH SIZE SEED
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, openSync, utimesSync, writeSync } from 'node:fs';

const [path, sizeText, seed] = process.argv.slice(2);
const size = Number(sizeText);
const key = createHash('sha256').update(seed).digest();
const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
const zeros = Buffer.alloc(4 * 1024 * 1024);
const fd = openSync(path, 'w');
for (let done = 0; done < size; done += zeros.length)
  writeSync(fd, cipher.update(zeros.subarray(0, Math.min(zeros.length, size - done))));
closeSync(fd);
const when = new Date('2024-01-01T00:00:00Z');
utimesSync(path, when, when);
