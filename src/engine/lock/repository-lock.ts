/**
 * Repository locks (repository-format.md, "Locks"). Operations that only add data (backup) take
 * a shared lock; operations that remove or rewrite (repair index) take an exclusive one. A lock
 * is a sealed, write-once object; refreshing writes a new one and deletes the old, so locks work
 * on write-once storage too.
 *
 * A lock is stale when its holder stopped refreshing it (older than STALE_AFTER_MS) or when it
 * was taken on this host by a process that no longer exists. Stale locks never block anyone;
 * `unlock` deletes them.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { describeError, HoldfastError, type Clock } from '../../core/index.js';
import { fileIdOf } from '../crypto/index.js';
import type { Repository } from '../repository/index.js';

export const REFRESH_EVERY_MS = 5 * 60_000;
export const STALE_AFTER_MS = 30 * 60_000;

/**
 * shared: adds data or reads (backup, restore, check). prune: removes unreferenced data, may run
 * beside shared holders but not beside another prune. exclusive: rewrites the index (repair).
 */
export type LockMode = 'shared' | 'prune' | 'exclusive';

export interface LockInfo {
  time: string;
  /** True for mode exclusive; kept for readers that only know shared/exclusive. */
  exclusive: boolean;
  mode?: LockMode;
  /** Random id, stable across refreshes: identifies one running operation (see prune). */
  session?: string;
  hostname: string;
  username: string;
  pid: number;
}

export interface LockEntry {
  readonly name: string;
  readonly info: LockInfo | undefined;
}

export function isStale(info: LockInfo | undefined, clock: Clock, host = hostname()): boolean {
  if (!info) return true; // undecryptable or malformed: nobody can hold it
  if (clock.now().getTime() - new Date(info.time).getTime() > STALE_AFTER_MS) return true;
  return isDeadOnThisHost(info, host);
}

/** True only when the holder ran on this host and its process is gone: no clock involved. */
export function isDeadOnThisHost(info: LockInfo, host = hostname()): boolean {
  if (info.hostname === host) {
    try {
      process.kill(info.pid, 0);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return false;
}

export async function listLocks(repo: Repository): Promise<LockEntry[]> {
  const out: LockEntry[] = [];
  for await (const o of repo.store.list('lock')) {
    try {
      const bytes = await repo.store.get('lock', o.name);
      out.push({ name: o.name, info: repo.openLock(bytes, `lock ${o.name}`) as LockInfo });
    } catch (err) {
      if (err instanceof HoldfastError && err.code === 'NOT_FOUND') continue; // released meanwhile
      // Undecryptable or malformed: nobody can hold it. Any other failure must not make a
      // running operation look absent, so it is passed on.
      if (!(
        err instanceof HoldfastError &&
        (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT')
      ))
        throw err;
      out.push({ name: o.name, info: undefined });
    }
  }
  return out;
}

export function lockMode(info: LockInfo): LockMode {
  return info.mode ?? (info.exclusive ? 'exclusive' : 'shared');
}

function conflicts(mine: LockMode, theirs: LockMode): boolean {
  if (mine === 'exclusive' || theirs === 'exclusive') return true;
  return mine === 'prune' && theirs === 'prune';
}

export interface LockOptions {
  readonly mode: LockMode;
  /** How long to keep retrying while another process holds a conflicting lock. */
  readonly retryMs?: number;
  readonly signal?: AbortSignal;
}

export class RepositoryLock {
  private name: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  readonly session = randomBytes(16).toString('hex');

  private constructor(
    private readonly repo: Repository,
    private readonly mode: LockMode,
  ) {}

  static async acquire(repo: Repository, options: LockOptions): Promise<RepositoryLock> {
    const lock = new RepositoryLock(repo, options.mode);
    const deadline = Date.now() + (options.retryMs ?? 0);
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      const blocker = await lock.tryAcquire();
      if (!blocker) break;
      if (Date.now() + delay > deadline) {
        const who = `${blocker.username}@${blocker.hostname} (pid ${blocker.pid}, ${lockMode(blocker)}, since ${blocker.time})`;
        throw new HoldfastError('LOCK_FAILED', `repository is locked by ${who}`, {
          hint: 'wait for that operation to finish, use --retry-lock DURATION, or run "holdfast unlock" if it is dead',
        });
      }
      await new Promise((r) => setTimeout(r, delay));
      if (options.signal?.aborted)
        throw new HoldfastError('INTERRUPTED', 'interrupted while waiting for the lock');
    }
    lock.timer = setInterval(() => {
      lock.refreshing = lock.refresh().catch(() => undefined);
    }, REFRESH_EVERY_MS);
    lock.timer.unref();
    return lock;
  }

  /** Writes our lock, then re-checks: if a conflicting lock appeared, removes ours and reports it. */
  private async tryAcquire(): Promise<LockInfo | undefined> {
    const blocker = await this.conflicting();
    if (blocker) return blocker;
    await this.write();
    const after = await this.conflicting();
    if (after) {
      await this.remove();
      return after;
    }
    return undefined;
  }

  private async conflicting(): Promise<LockInfo | undefined> {
    for (const l of await listLocks(this.repo)) {
      if (l.name === this.name || isStale(l.info, this.repo.clock)) continue;
      if (conflicts(this.mode, lockMode(l.info!))) return l.info;
    }
    return undefined;
  }

  private async write(): Promise<void> {
    const info: LockInfo = {
      time: this.repo.clock.now().toISOString(),
      exclusive: this.mode === 'exclusive',
      mode: this.mode,
      session: this.session,
      hostname: hostname(),
      username: userInfo().username,
      pid: process.pid,
    };
    const bytes = this.repo.sealLock(info);
    const name = fileIdOf(bytes);
    await this.repo.store.put('lock', name, bytes);
    this.name = name;
  }

  private async remove(): Promise<void> {
    if (this.name) await this.repo.store.delete('lock', this.name);
    this.name = undefined;
  }

  private async refresh(): Promise<void> {
    const old = this.name;
    await this.write();
    if (old) await this.repo.store.delete('lock', old);
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    try {
      await this.remove();
    } catch (err) {
      throw new HoldfastError('STORAGE_FAILED', `could not remove lock: ${describeError(err)}`, {
        hint: 'run "holdfast unlock" later',
      });
    }
  }
}

/** Deletes stale locks (or all with `all`); returns how many were removed. */
export async function removeLocks(repo: Repository, all: boolean): Promise<number> {
  let n = 0;
  for (const l of await listLocks(repo)) {
    if (all || isStale(l.info, repo.clock)) {
      await repo.store.delete('lock', l.name);
      n++;
    }
  }
  return n;
}
