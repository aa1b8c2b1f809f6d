/**
 * databases: PostgreSQL and MariaDB/MySQL use cases — base backups and the WAL archive
 * (push, fetch, check, forget), point-in-time restore, logical dumps and their restore. Every
 * database snapshot records `meta.kind` and the database's facts (repository-format.md,
 * "Snapshots"); docs/databases.md is the user's guide.
 */
export * from './db-snapshots.js';
export * from './stream-snapshot.js';
export * from './snapshot-file.js';
export * from './pg-wal.js';
export * from './wal-continuity.js';
export * from './wal-archive.js';
export * from './pg-check.js';
export * from './pg-basebackup.js';
export * from './pg-restore.js';
export * from './pg-forget-wal.js';
export * from './pg-dump.js';
export * from './mysql-dump.js';
