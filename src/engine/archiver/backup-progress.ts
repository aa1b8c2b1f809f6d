/** Events and counters of a backup, shared by the CLI progress line, JSON output and metrics. */
import type { SnapshotSummary } from '../format/index.js';

export interface BackupCounters {
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dirsNew: number;
  dirsChanged: number;
  dirsUnmodified: number;
  filesDone: number;
  bytesDone: number;
}

export type BackupEvent =
  | { readonly kind: 'file-started'; readonly path: string }
  | { readonly kind: 'file-done'; readonly path: string; readonly bytes: number }
  | { readonly kind: 'bytes'; readonly bytes: number }
  | { readonly kind: 'warning'; readonly path: string; readonly message: string }
  | { readonly kind: 'error'; readonly path: string; readonly message: string };

export function newCounters(): BackupCounters {
  return {
    filesNew: 0,
    filesChanged: 0,
    filesUnmodified: 0,
    dirsNew: 0,
    dirsChanged: 0,
    dirsUnmodified: 0,
    filesDone: 0,
    bytesDone: 0,
  };
}

export function summaryFrom(
  c: BackupCounters,
  w: { dataBlobs: number; treeBlobs: number; dataAdded: number; dataAddedPacked: number },
  start: Date,
  end: Date,
): SnapshotSummary {
  return {
    backup_start: start.toISOString(),
    backup_end: end.toISOString(),
    files_new: c.filesNew,
    files_changed: c.filesChanged,
    files_unmodified: c.filesUnmodified,
    dirs_new: c.dirsNew,
    dirs_changed: c.dirsChanged,
    dirs_unmodified: c.dirsUnmodified,
    data_blobs: w.dataBlobs,
    tree_blobs: w.treeBlobs,
    data_added: w.dataAdded,
    data_added_packed: w.dataAddedPacked,
    total_files_processed: c.filesDone,
    total_bytes_processed: c.bytesDone,
  };
}
