/** `holdfast pg ...`: PostgreSQL base backups, WAL archive, point-in-time restore, dumps. */
import type { RegisterCommand } from '../command-kit.js';
import { registerPgBasebackup } from './pg-basebackup.js';
import { registerPgCheck } from './pg-check.js';
import { registerPgDump } from './pg-dump.js';
import { registerPgForgetWal } from './pg-forget-wal.js';
import { registerPgRestore } from './pg-restore.js';
import { registerPgWal } from './pg-wal.js';

export const registerPg: RegisterCommand = (program, kit) => {
  const pg = program
    .command('pg')
    .description(
      'PostgreSQL: base backups, WAL archiving, point-in-time restore, dumps (docs/databases.md)',
    )
    .option(
      '--config <file>',
      'read HOLDFAST_* (and PG*) settings from this file: NAME=VALUE lines; flags win over it, it wins over the environment',
    );
  for (const register of [
    registerPgBasebackup,
    registerPgWal,
    registerPgRestore,
    registerPgCheck,
    registerPgForgetWal,
    registerPgDump,
  ])
    register(pg, kit);
};
