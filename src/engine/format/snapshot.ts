/**
 * Snapshots (repository-format.md, "Snapshots"): the commit point of a backup. Sealed JSON whose
 * field names follow restic's, so existing tooling reads `snapshots --json` unchanged. The
 * snapshot id is the SHA-256 of the sealed file.
 */
import { HoldfastError, type BlobId, type SnapshotId } from '../../core/index.js';

export interface SnapshotSummary {
  backup_start: string;
  backup_end: string;
  files_new: number;
  files_changed: number;
  files_unmodified: number;
  dirs_new: number;
  dirs_changed: number;
  dirs_unmodified: number;
  data_blobs: number;
  tree_blobs: number;
  data_added: number;
  data_added_packed: number;
  total_files_processed: number;
  total_bytes_processed: number;
}

export interface Snapshot {
  /** RFC 3339 time the snapshot stands for. */
  time: string;
  tree: BlobId;
  paths: string[];
  hostname: string;
  username: string;
  uid?: number;
  gid?: number;
  tags?: string[];
  excludes?: string[];
  parent?: SnapshotId;
  /** Present and true when some source items could not be read (exit code 3). */
  partial?: boolean;
  /** Set by `copy`: the snapshot this one copies. */
  original?: SnapshotId;
  /**
   * Facts about what a database snapshot holds (`kind`, PostgreSQL system identifier, version,
   * timeline, WAL positions, ...): string keys and values, see repository-format.md "Snapshots".
   */
  meta?: Record<string, string>;
  program_version: string;
  summary?: SnapshotSummary;
}

export function validateSnapshot(value: unknown, what: string): Snapshot {
  const s = value as Partial<Snapshot> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.time !== 'string' ||
    typeof s.tree !== 'string' ||
    !Array.isArray(s.paths) ||
    typeof s.hostname !== 'string'
  ) {
    throw new HoldfastError('INTEGRITY', `${what}: not a valid snapshot`);
  }
  return s as Snapshot;
}
