/**
 * Maps Node filesystem errors to HoldfastError codes. Conditions that can clear on their own
 * (descriptor exhaustion, a busy or stale NFS handle) become STORAGE_UNAVAILABLE so the retry
 * decorator tries again; everything else is permanent (STORAGE_FAILED) and carries a hint, because
 * retrying a full disk or a permission error only delays the message the user needs.
 */
import {
  HoldfastError,
  describeError,
  errnoCode,
  interrupted,
  isHoldfastError,
} from '../../core/index.js';

const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ESTALE']);

const HINTS: Record<string, string> = {
  EACCES: 'check that the user running holdfast may read and write this path',
  EPERM: 'check the permissions and attributes (chattr, ACLs) of this path',
  ENOSPC: 'free space on the filesystem holding the repository',
  EDQUOT: 'raise the disk quota or free space on the filesystem holding the repository',
  EROFS: 'the filesystem is mounted read-only; remount it read-write',
  EIO: 'the device reported an I/O error; check the disk (dmesg, SMART) before writing more',
  ENOTDIR: 'a file is in the way where the repository expects a directory',
  EEXIST: 'a file is in the way where the repository expects a directory',
  EISDIR: 'a directory is in the way where the repository expects a file',
  ENOTSUP: 'the filesystem must support hard links (holdfast links to never replace an object)',
  EXDEV: 'tmp/ must be on the same filesystem as the rest of the repository',
  EMFILE: 'too many open files; raise the limit (ulimit -n)',
  ENFILE: 'the system ran out of file descriptors; try again later',
};

/**
 * Turns any error thrown by fs into a HoldfastError naming what was done, the path and the errno.
 * HoldfastErrors pass through unchanged; an AbortError becomes INTERRUPTED.
 */
export function fsError(
  err: unknown,
  action: string,
  path: string,
  signal?: AbortSignal,
): HoldfastError {
  if (isHoldfastError(err)) return err;
  if (err instanceof Error && err.name === 'AbortError') return interrupted(signal);
  const code = errnoCode(err) ?? 'unknown error';
  const message = `cannot ${action} at ${path}: ${code} (${errnoText(err, code)})`;
  const transient = TRANSIENT.has(code);
  const hint =
    HINTS[code] ?? (transient ? 'try again later' : 'check the repository path and its filesystem');
  return new HoldfastError(transient ? 'STORAGE_UNAVAILABLE' : 'STORAGE_FAILED', message, {
    hint,
    cause: err,
  });
}

/** "no space left on device" out of Node's "ENOSPC: no space left on device, write". */
function errnoText(err: unknown, code: string): string {
  const text = describeError(err);
  const match = new RegExp(`^${code}: ([^,]+)`).exec(text);
  return match?.[1] ?? text;
}
