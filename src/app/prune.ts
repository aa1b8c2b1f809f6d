/**
 * The prune use case: garbage-collect under a prune lock, which backups do not wait for. See
 * engine/pruner for the protocol that keeps running backups safe without trusting clocks.
 */
import { prune, type PruneResult, type Repository, type RepositoryLock } from '../engine/index.js';

export interface PruneRequest {
  readonly repo: Repository;
  readonly lock: RepositoryLock;
  /** Tolerated unused share, 0..1 (default 0.05). */
  readonly maxUnused?: number;
  readonly maxRepackBytes?: number;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: string) => void;
}

export async function runPrune(req: PruneRequest): Promise<PruneResult> {
  return prune({
    repo: req.repo,
    session: req.lock.session,
    ...(req.maxUnused !== undefined && { maxUnused: req.maxUnused }),
    ...(req.maxRepackBytes !== undefined && { maxRepackBytes: req.maxRepackBytes }),
    ...(req.dryRun && { dryRun: true }),
    ...(req.signal && { signal: req.signal }),
    ...(req.onProgress && { onProgress: req.onProgress }),
  });
}
