/** cli: the command line adapter — parses argv, calls app/, renders text or JSON, maps errors to exit codes. */
export { run } from './run.js';
export type { Io } from './io.js';
export { EXIT_CODES } from './exit-codes.js';
