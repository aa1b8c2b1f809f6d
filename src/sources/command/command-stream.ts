/**
 * A command's standard output as a backup source (`backup --stdin-from-command`). The stream
 * only counts as complete when the command exits 0: the caller must await `completed` before it
 * commits anything made from the stream.
 */
import { spawn } from 'node:child_process';
import { HoldfastError } from '../../core/index.js';

export interface CommandStream {
  readonly output: AsyncIterable<Buffer>;
  /** Resolves when the command exited 0; rejects with SOURCE_UNAVAILABLE otherwise. */
  readonly completed: Promise<void>;
  kill(): void;
}

export function commandStream(argv: readonly string[], signal?: AbortSignal): CommandStream {
  const [command, ...args] = argv;
  if (command === undefined)
    throw new HoldfastError('USAGE', 'no command given after --stdin-from-command', {
      hint: 'write it after "--", e.g. -- pg_dump mydb',
    });
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(signal && { signal }),
  });
  const shown = argv.join(' ');
  const completed = new Promise<void>((resolve, reject) => {
    child.once('error', (err) =>
      reject(
        new HoldfastError('SOURCE_UNAVAILABLE', `cannot run "${shown}": ${err.message}`, {
          cause: err,
          hint: 'check the command name and PATH',
        }),
      ),
    );
    child.once('close', (code, sig) => {
      if (code === 0) resolve();
      else
        reject(
          new HoldfastError(
            'SOURCE_UNAVAILABLE',
            `command "${shown}" failed (${sig ? `signal ${sig}` : `exit code ${code}`}); no snapshot was written`,
            {
              hint: 'fix the command (its error output is shown above) and run the backup again',
            },
          ),
        );
    });
  });
  // Avoid an unhandled rejection when the caller fails first and never awaits `completed`.
  completed.catch(() => undefined);
  return {
    output: child.stdout as AsyncIterable<Buffer>,
    completed,
    kill: () => child.kill('SIGTERM'),
  };
}
