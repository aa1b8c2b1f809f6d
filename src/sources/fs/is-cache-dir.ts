/**
 * Cache directory tags (https://bford.info/cachedir/): a directory holding a file CACHEDIR.TAG
 * that begins with the standard signature holds regenerable data. With `--exclude-caches` restic
 * keeps the tag file and leaves out the rest of the directory; the archiver does the same.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { errnoCode } from '../../core/index.js';
import { joinPath } from './path-bytes.js';

export const CACHEDIR_TAG_NAME = 'CACHEDIR.TAG';
export const CACHEDIR_TAG_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';

const TAG_NAME = Buffer.from(CACHEDIR_TAG_NAME);
const SIGNATURE = Buffer.from(CACHEDIR_TAG_SIGNATURE);

/** Error codes that just mean "no usable tag here". */
const NOT_A_TAG = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR', 'ENXIO']);

/**
 * Whether `dir` holds a CACHEDIR.TAG that is a regular file (a symlink to one counts, as in
 * restic) starting with the signature. Rejects with the fs error for failures other than a
 * missing or unusable tag (EACCES, EIO, ...), so the caller can report them.
 */
export async function isCacheDir(dir: Buffer): Promise<boolean> {
  const path = joinPath(dir, TAG_NAME);
  try {
    // Check the type before opening: opening a fifo would block and opening some devices has
    // side effects (a tape drive rewinds).
    if (!(await stat(path)).isFile()) return false;
    // O_NONBLOCK still guards the window in which the file could be swapped for a fifo.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!(await handle.stat()).isFile()) return false;
      const head = Buffer.alloc(SIGNATURE.length);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return bytesRead === head.length && head.equals(SIGNATURE);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (NOT_A_TAG.has(errnoCode(err) ?? '')) return false;
    throw err;
  }
}
