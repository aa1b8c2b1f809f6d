/** The error the restore-side helpers throw: what failed, on which path, with errno-based hints. */
import { describeError, errnoCode, HoldfastError } from '../../core/index.js';
import { displayPath } from './path-bytes.js';

const HINTS: Record<string, string> = {
  EPERM: 'restore as root to recreate devices, ownership and trusted.*/security.* attributes',
  EACCES: 'check the permissions of the restore target',
  ENOTSUP: 'the target file system does not support this; restore to another file system',
  ENOSPC: 'the target file system is full',
  EDQUOT: 'the disk quota of the target is exhausted',
  EROFS: 'the target file system is read-only',
};

/** A FAILURE naming `what` was attempted on `path`; `cause` keeps the system error and its code. */
export function restoreError(what: string, path: Buffer, cause: unknown): HoldfastError {
  const hint = HINTS[errnoCode(cause) ?? ''];
  return new HoldfastError(
    'FAILURE',
    `${displayPath(path)}: cannot ${what}: ${describeError(cause)}`,
    {
      cause,
      ...(hint !== undefined && { hint }),
    },
  );
}
