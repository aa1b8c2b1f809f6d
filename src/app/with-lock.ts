/**
 * Runs a use case under a repository lock, released even when the use case fails.
 *
 * When the use case fails and the lock cannot be removed either (storage went away during a
 * backup), the use case's error is the one reported: it says what went wrong, and its hint adds
 * that the lock is left. Such a lock never blocks a shared operation; it is stale on this host
 * once the process has ended (elsewhere after STALE_AFTER_MS), and `unlock` removes stale locks
 * (repository-format.md §14.3, §14.4).
 */
import { HoldfastError, isHoldfastError } from '../core/index.js';
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
  let result: T;
  try {
    result = await fn(lock);
  } catch (err) {
    throw await releaseAfterFailure(lock, mode, err);
  }
  await lock.release();
  return result;
}

async function releaseAfterFailure(
  lock: RepositoryLock,
  mode: LockMode,
  err: unknown,
): Promise<unknown> {
  try {
    await lock.release();
    return err;
  } catch {
    if (!isHoldfastError(err)) return err;
    const left = `its ${mode} lock could not be removed: once the storage is back, run "holdfast unlock" on this host`;
    return new HoldfastError(err.code, err.message, {
      hint: err.hint ? `${err.hint}; ${left}` : left,
      cause: err,
    });
  }
}
