/**
 * The pack spool of a command that writes data packs — a backup, a database dump, a copy (ADR
 * 0014): with network storage its data packs are filled and uploaded from there instead of
 * being held in memory. The first of `dirs` on a disk (PackSpool.open; default: the system's temporary
 * directory, which honours $TMPDIR) is used, and removed with everything in it once `run`
 * settles.
 *
 * `run` gets undefined, and packs are held in memory, for a dry run (it stores nothing), when no
 * directory is on a disk, and for a repository of files on this machine (ObjectStore `files`):
 * its packs are written past the page cache (`O_DIRECT`, repository-format.md §2.4) as soon as
 * they are full, whereas spooling puts every byte through the page cache twice — on the
 * benchmark machine the 1 GiB backup took 2.6 s instead of 1.6 and the small files' 7.2 s
 * instead of 5.9 (docs/benchmarks-history.md, part Z).
 */
import { tmpdir } from 'node:os';
import { PackSpool } from '../engine/index.js';
import type { ObjectStore } from '../storage/index.js';

export async function withPackSpool<T>(
  store: Pick<ObjectStore, 'files'>,
  options: { readonly dirs?: readonly string[] | undefined; readonly dryRun?: boolean | undefined },
  run: (spool: PackSpool | undefined) => Promise<T>,
): Promise<T> {
  const wanted = options.dryRun !== true && store.files === undefined;
  const spool = wanted ? await PackSpool.open(options.dirs ?? [tmpdir()]) : undefined;
  try {
    return await run(spool);
  } finally {
    await spool?.close();
  }
}
