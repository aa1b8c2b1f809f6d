/**
 * sources: what a backup reads. `fs/` is the filesystem Source (walking, metadata, excludes) and
 * also writes metadata back at restore time, so that both directions share one notion of an
 * entry. `postgres/` and `mariadb/` run the database client programs and read their formats.
 * Sources sit below engine/ and import only core/.
 */
export * from './fs/index.js';
export * from './command/index.js';
export * from './postgres/index.js';
export * from './mariadb/index.js';
