/** pruner: garbage collection without stopping backups and without trusting clocks (repository-format.md, "Deleting data"). */
export * from './pruner.js';
export * from './prune-plan.js';
