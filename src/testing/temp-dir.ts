/**
 * Temporary directories for tests: real directories under the system temp dir (/tmp), which every
 * user can traverse — tests that run the binary as another user rely on that.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a fresh, empty directory `<tmpdir>/holdfast-<prefix>-XXXXXX` and returns its path. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `holdfast-${prefix}-`));
}

/** Removes a directory made by makeTempDir, whatever its contents and modes. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
