/** Runs a use case under a repository lock, released even when the use case fails. */
import { RepositoryLock, type LockMode, type Repository } from '../engine/index.js';

export async function withLock<T>(
  repo: Repository,
  mode: LockMode,
  retryMs: number | undefined,
  signal: AbortSignal | undefined,
  fn: (lock: RepositoryLock) => Promise<T>,
): Promise<T> {
  const lock = await RepositoryLock.acquire(repo, {
    mode,
    ...(retryMs !== undefined && { retryMs }),
    ...(signal && { signal }),
  });
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
