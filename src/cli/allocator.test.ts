/**
 * The binary's allocator tuning together with the default key-derivation cost: the derivation's
 * memory must go back to the kernel once the key is derived, or every command that opens a
 * repository carries it to its end (+32 MiB on `check` and on backups, measured).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { MiB } from '../core/index.js';
import { DEFAULT_KDF_COST } from '../engine/crypto/index.js';
import { ALLOCATOR_TUNING } from './allocator.js';

const run = promisify(execFile);

interface Probe {
  tuned: boolean;
  /** VmRSS before and after the derivation, and VmHWM (peak) after it, in bytes. */
  before: number;
  after: number;
  peak: number;
}

/** Derives one key with the default cost in a fresh process tuned as the binary tunes it. */
async function probe(env: NodeJS.ProcessEnv): Promise<Probe> {
  const allocator = new URL('./allocator.js', import.meta.url).href;
  const crypto = new URL('../engine/crypto/index.js', import.meta.url).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { tuneProcessAllocator } = await import(${JSON.stringify(allocator)});
    const { deriveKeyEncryptionKey, newKdfParams } = await import(${JSON.stringify(crypto)});
    const status = (field) =>
      Number(new RegExp(field + ':\\\\s+(\\\\d+) kB').exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    const tuned = tuneProcessAllocator(process.env);
    const before = status('VmRSS');
    await deriveKeyEncryptionKey('password', newKdfParams());
    console.log(JSON.stringify({ tuned, before, after: status('VmRSS'), peak: status('VmHWM') }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    // As the binary's first line sets it (main.ts).
    env: { ...env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' },
  });
  return JSON.parse(stdout) as Probe;
}

void test('the key derivation gives its memory back under the binary allocator tuning', async () => {
  const kdfBytes = 128 * DEFAULT_KDF_COST.N * DEFAULT_KDF_COST.r;
  // The reasoning in allocator.ts holds for a derivation at or above the mmap threshold.
  assert.ok(kdfBytes >= ALLOCATOR_TUNING.mmapThreshold, 'derivation below the mmap threshold');
  assert.ok(ALLOCATOR_TUNING.topPad < kdfBytes, 'top pad as large as the derivation');

  const { header } = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !(k.startsWith('MALLOC_') && k.endsWith('_'))),
  );
  const result = await probe(env);
  assert.equal(result.tuned, header.glibcVersionRuntime !== undefined);
  // The derivation did touch its memory (so the check below can fail)...
  assert.ok(result.peak - result.before >= kdfBytes * 0.75, JSON.stringify(result));
  // ...and none of it stays resident.
  assert.ok(result.after - result.before < 8 * MiB, JSON.stringify(result));
});

void test('a user who sets glibc malloc variables keeps them: the binary does not tune', async () => {
  const result = await probe({ ...process.env, MALLOC_TOP_PAD_: '131072' });
  assert.equal(result.tuned, false);
});
