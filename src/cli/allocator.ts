/**
 * How the holdfast binary tunes glibc's malloc (docs/adr/0008-restore-workers-and-allocator.md).
 *
 * Backups and restores churn through multi-MiB buffers on several threads; glibc's defaults
 * return each one to the kernel when it is freed, so the next one is page faults and cleared
 * pages again (a kernel-tree restore: 13.1 s before, 10.0 s after, on 2 cores). glibc's adaptive
 * defaults were tried again in part L (docs/benchmarks-history.md): a local restore's peak RSS
 * fell by ≈ 40 MiB in the same time, but a restore from a repository server, which fetches whole
 * 16 MiB packs, took 8.8 s instead of 7.6–8.0 s.
 *
 * The buffers of 32 MiB or more are scrypt's (32 MiB and a few KiB, on a thread-pool thread): the
 * key derivation's, once per command, and a repository server's login checks. At this mmap
 * threshold each gets a mapping of its own, unmapped when freed. The top pad stays below 32 MiB for
 * the same reason: glibc's heaps for threads hold at most 64 MiB each, and a 64 MiB pad made the
 * first one that large at once, so the derivation fitted in its free top and stayed resident for
 * the rest of the command (measured: `check` and the 1 GiB backup peaked 32 MiB higher with a 32
 * MiB key; benchmarks history, part W).
 */
import { MiB } from '../core/index.js';
import { tuneAllocator } from '../sources/index.js';

export const ALLOCATOR_TUNING = {
  /** Served from the heap below this, mapped on their own at or above it. */
  mmapThreshold: 32 * MiB,
  /** Freed memory kept by the process up to this much before the heap is trimmed. */
  trimThreshold: 256 * MiB,
  /** Extra bytes a heap grows by. */
  topPad: 16 * MiB,
} as const;

/**
 * Applies ALLOCATOR_TUNING unless `env` sets any of glibc's own `MALLOC_*_` variables (whoever
 * set them keeps them). Returns whether it tuned; without the native addon only speed is lost,
 * and the commands that need the addon say so themselves.
 */
export function tuneProcessAllocator(env: NodeJS.ProcessEnv): boolean {
  if (Object.keys(env).some((k) => k.startsWith('MALLOC_') && k.endsWith('_'))) return false;
  const { mmapThreshold, trimThreshold, topPad } = ALLOCATOR_TUNING;
  try {
    return tuneAllocator(mmapThreshold, trimThreshold, topPad);
  } catch {
    return false;
  }
}
