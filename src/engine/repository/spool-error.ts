/**
 * The error of a spool file that could not be made, written or laid out (SpooledPacker): the
 * backup stops there, since the pack it was filling is lost, and the message says where and
 * what to do. The native layout (packFromSpool) rejects with the C library's `errno`; node:fs
 * with its code.
 */
import { getSystemErrorMap } from 'node:util';
import { HoldfastError, describeError } from '../../core/index.js';

export function spoolError(err: unknown, action: string, path: string): HoldfastError {
  if (err instanceof HoldfastError) return err;
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  const name =
    typeof code === 'string'
      ? code
      : typeof errno === 'number'
        ? (getSystemErrorMap().get(-Math.abs(errno))?.[0] ?? `E${errno}`)
        : undefined;
  const room = name === 'ENOSPC' || name === 'EDQUOT';
  const hint = room
    ? 'free space there, or set TMPDIR to a directory on a disk with room for a few packs'
    : 'check that directory, or set TMPDIR to another directory on a local disk';
  return new HoldfastError(
    'FAILURE',
    `could not ${action} the spool ${path}: ${describeError(err)}`,
    {
      cause: err,
      hint,
    },
  );
}
