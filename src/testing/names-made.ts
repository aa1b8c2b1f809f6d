/**
 * What a command makes in a directory while it runs, seen by fs.watch: a spool directory is
 * made and removed within the command, so looking before and after would miss it.
 */
import { watch } from 'node:fs';

/** The names made or changed directly in `dir` while `run` runs, in the order seen. */
export async function namesMadeIn(dir: string, run: () => Promise<unknown>): Promise<string[]> {
  const made: string[] = [];
  const watcher = watch(dir, (_, name) => {
    if (name !== null) made.push(name);
  });
  try {
    await run();
  } finally {
    watcher.close();
  }
  return made;
}
