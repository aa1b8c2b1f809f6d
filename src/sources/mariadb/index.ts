/**
 * mariadb: MariaDB and MySQL as backup sources — argv of mariadb-dump/mysqldump and the client,
 * connection options (option files, a password passed through MYSQL_PWD), and the rewrite that
 * restores a dump under a new database name. Running the programs: postgres/tool-process.ts.
 */
export * from './mysql-connection.js';
export * from './mysql-dump.js';
export * from './rewrite-database.js';
