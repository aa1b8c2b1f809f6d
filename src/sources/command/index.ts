/** command: a child process's standard output as a source, complete only on exit code 0. */
export * from './command-stream.js';
