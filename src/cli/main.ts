#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.arena_max=2:${GLIBC_TUNABLES} node --max-semi-space-size=2
/**
 * The holdfast binary: connects run() to the real process — argv, stdio, environment, and
 * SIGINT/SIGTERM, which abort the running operation (exit 130); a second signal exits at once.
 *
 * The first line gives glibc's malloc two arenas (heaps) for all threads instead of up to 8 per
 * core, one per thread that ever found its arena locked. Each arena keeps what is freed into it
 * for its own next allocations (more so with the thresholds below), so a buffer a worker freed
 * was of no use to the main thread's next one, and the peak was about the sum of every arena's
 * own. Measured on the kernel tree (docs/benchmarks-history.md, part R): peak RSS of a backup
 * −10 to −15 MiB, of a restore −15 to −20, with no change in time; one arena cost `check` 15 MiB
 * more. It is set before node starts because glibc fixes the limit once threads have made their
 * arenas (the V8 platform's threads do before any of our code runs; mallopt from here removed
 * only part of the difference). A value the user gives in GLIBC_TUNABLES comes later and wins.
 *
 * The first line caps the main thread's young generation at two 2 MiB semi-spaces (V8's default
 * here: 16 MiB each). What the main thread allocates per file and per blob dies young or lives
 * until its pack is stored, so a larger nursery only holds more garbage between scavenges.
 * Measured on the kernel tree (docs/benchmarks-history.md, part L): peak RSS of a backup −35 MiB,
 * `check --read-data` −30, restore −50, 200,000 small files −40, with no change in time beyond
 * noise (at 1 MiB: a few % more CPU). V8 sizes the young generation when the isolate is created,
 * so this cannot be set from here like the flag below; `node dist/bin/holdfast.js` runs without
 * it. Worker threads have their own limit (startWorkerThread).
 */
import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { tuneProcessAllocator } from './allocator.js';
import { run } from './run.js';

// Process-wide, hence here in the binary and not in run(), which tests call in-process.
tuneProcessAllocator(process.env);

// V8 lets the main heap grow to up to 4× what survived the last full collection before it
// collects again. A backup's main thread makes objects per file and per blob that live a while
// (promoted) and then die together, so on 200,000 small files the old generation reached 254 MiB
// for ≈ 50 MiB of live objects. At 1.5× (measured, alternating runs): that backup's peak RSS
// 498–506 → 328–331 MiB, the kernel tree's 316–330 → 280–291 MiB; the extra collections cost
// 0–10 % of CPU in alternating runs (docs/benchmarks-history.md, part K). The heap controller reads
// this flag whenever it sets the next limit, so setting it here, after start-up, takes effect
// (the RSS above is with it set here). Whoever passes the flag to node keeps their value.
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent')))
  setFlagsFromString('--heap-growing-percent=50');

const controller = new AbortController();
// Every request in flight (HTTP to S3 or a repository server, file reads) listens to this one
// signal while it runs; tens at once are normal and not a leak, so Node's warning at 11 would
// only alarm users. Listeners are still removed when each request ends.
setMaxListeners(1000, controller.signal);
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\nreceived ${sig}, stopping (press again to exit at once)\n`);
    controller.abort(new Error(sig));
  });
}

// A reader that went away (`holdfast ls | head`) is normal in a pipeline: stop quietly, with the
// status of a process killed by SIGPIPE (128 + 13), as C and Go programs do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(141);
  throw err;
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  interactive: process.stderr.isTTY === true,
  signal: controller.signal,
  binary: fileURLToPath(import.meta.url),
});
// Let stdout drain (large --json or dump output) before exiting.
process.stdout.write('', () => process.exit(code));
