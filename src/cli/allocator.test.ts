/**
 * The binary's allocator tuning together with the scrypt costs holdfast uses by default: a
 * derivation's memory must go back to the kernel once it is done, or every command that opens a
 * repository carries it to its end (+32 MiB on `check` and on backups, measured) and a repository
 * server keeps it after logins (+64 MiB after two, measured).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { MiB } from '../core/index.js';
import { DEFAULT_KDF_COST } from '../engine/crypto/index.js';
import { DEFAULT_SCRYPT_COST } from '../server/index.js';
import { ALLOCATOR_TUNING } from './allocator.js';

const run = promisify(execFile);

interface Probe {
  tuned: boolean;
  /** VmRSS before and after the derivation, and VmHWM (peak) after it, in bytes. */
  before: number;
  after: number;
  peak: number;
}

/**
 * Runs `derivation` (JavaScript awaited in a module with `crypto` and `server`, holdfast's
 * modules of those names, in scope) in a fresh process tuned as the binary tunes it.
 */
async function probe(env: NodeJS.ProcessEnv, derivation: string): Promise<Probe> {
  const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    import { readFileSync } from 'node:fs';
    const { tuneProcessAllocator } = await import(${module('./allocator.js')});
    const crypto = await import(${module('../engine/crypto/index.js')});
    const server = await import(${module('../server/index.js')});
    // "VmRSS:   52640 kB"
    const status = (field) => 1024 * Number(readFileSync('/proc/self/status', 'utf8')
      .split('\\n').find((line) => line.startsWith(field + ':'))
      .slice(field.length + 1).trim().split(' ')[0]);
    const tuned = tuneProcessAllocator(process.env);
    const before = status('VmRSS');
    await ${derivation};
    console.log(JSON.stringify({ tuned, before, after: status('VmRSS'), peak: status('VmHWM') }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    // As the binary's first line sets it (main.ts).
    env: { ...env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' },
  });
  return JSON.parse(stdout) as Probe;
}

const { header } = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
const ownEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !(k.startsWith('MALLOC_') && k.endsWith('_'))),
);

/** Checks that a derivation of `bytes` touched them and left none resident. */
function assertReturned(result: Probe, bytes: number): void {
  assert.equal(result.tuned, header.glibcVersionRuntime !== undefined);
  // The reasoning in allocator.ts holds for a derivation at or above the mmap threshold.
  assert.ok(bytes >= ALLOCATOR_TUNING.mmapThreshold, 'derivation below the mmap threshold');
  assert.ok(ALLOCATOR_TUNING.topPad < bytes, 'top pad as large as the derivation');
  // The derivation did touch its memory (so the check below can fail)...
  assert.ok(result.peak - result.before >= bytes * 0.75, JSON.stringify(result));
  // ...and none of it stays resident.
  assert.ok(result.after - result.before < 8 * MiB, JSON.stringify(result));
}

void test('a key derivation gives its memory back under the binary allocator tuning', async () => {
  const result = await probe(
    ownEnv,
    'crypto.deriveKeyEncryptionKey("password", crypto.newKdfParams())',
  );
  assertReturned(result, 128 * DEFAULT_KDF_COST.N * DEFAULT_KDF_COST.r);
});

void test('login hashes of a repository server give their memory back, two at once', async () => {
  // Two checks at once: the server's bound on concurrent hashes (credentials.ts).
  const line = 'server.credentialsLine("alice", "password")';
  const result = await probe(ownEnv, `Promise.all([${line}, ${line}])`);
  assertReturned(result, 128 * 2 ** DEFAULT_SCRYPT_COST.ln * DEFAULT_SCRYPT_COST.r);
});

void test('a user who sets glibc malloc variables keeps them: the binary does not tune', async () => {
  const result = await probe({ ...process.env, MALLOC_TOP_PAD_: '131072' }, 'undefined');
  assert.equal(result.tuned, false);
});
