/**
 * Where the local metadata cache lives (docs/backends.md, "Local cache"): --no-cache turns it
 * off; otherwise --cache-dir, then HOLDFAST_CACHE_DIR, then $XDG_CACHE_HOME/holdfast, then
 * ~/.cache/holdfast. Only remote repositories (rest:, s3:) use it; app/ decides that.
 */
import { join, resolve } from 'node:path';
import { HoldfastError } from '../core/index.js';
import type { Io } from './io.js';
import { xdgDir } from './xdg.js';

export interface CacheFlags {
  readonly cacheDir?: string;
  /** False with --no-cache (commander's negated option). */
  readonly cache?: boolean;
}

/** The cache root, or undefined when caching is off. */
export function cacheRoot(flags: CacheFlags, env: Io['env']): string | undefined {
  if (flags.cache === false) return undefined;
  if (flags.cacheDir === '')
    throw new HoldfastError('USAGE', '--cache-dir is empty', {
      hint: 'give a directory, or --no-cache to use no cache',
    });
  const chosen = flags.cacheDir ?? nonEmpty(env.HOLDFAST_CACHE_DIR);
  if (chosen !== undefined) return resolve(chosen);
  return join(xdgDir(env, 'XDG_CACHE_HOME', '.cache'), 'holdfast');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
