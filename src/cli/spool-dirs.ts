/**
 * Where `restore` and `check --read-data` spool the packs they download whole from network
 * storage, and `backup` and `copy` the data packs they fill and upload there (PackSpool):
 * $TMPDIR (else the system's temporary directory), or the cache directory when that one is
 * memory (tmpfs) — both on this machine, both meant for data that can be thrown away.
 */
import { tmpdir } from 'node:os';
import type { Context } from './context.js';

export function spoolDirs(ctx: Pick<Context, 'io' | 'cacheRoot'>): string[] {
  const tmp = ctx.io.env.TMPDIR;
  const dirs = [tmp !== undefined && tmp.length > 0 ? tmp : tmpdir()];
  const cacheRoot = ctx.cacheRoot();
  if (cacheRoot !== undefined) dirs.push(cacheRoot);
  return dirs;
}
