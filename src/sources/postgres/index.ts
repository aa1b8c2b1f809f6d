/**
 * postgres: PostgreSQL as a backup source. Vocabulary (PostgreSQL's own): a *base backup* is a
 * tar of the data directory from pg_basebackup; *WAL files* are 16 MiB segments (plus `.history`,
 * `.backup` and `.partial` files) that archive_command hands over one by one; an *LSN* is a byte
 * position in the WAL; a *timeline* is a branch of history that starts at each promotion. This
 * module runs the client programs and reads their formats; it knows nothing of repositories.
 * How snapshots record these facts: repository-format.md, "Snapshots" (`meta`), and
 * docs/databases.md.
 */
export * from './tool-process.js';
export * from './lsn.js';
export * from './timeline-history.js';
export * from './control-data.js';
export * from './tar-inspector.js';
export * from './libpq.js';
export * from './base-backup.js';
export * from './recovery-settings.js';
export * from './local-server.js';
export * from './dump-programs.js';
export * from './data-directory.js';
export * from './wal-file.js';
