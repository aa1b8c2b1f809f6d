/**
 * Opening a file the walk saw, to read its content for a backup.
 *
 * - O_NOATIME: reading for a backup must not change what the next backup records. Without it,
 *   the first read after a file was written moves its atime (relatime), so the next backup of an
 *   unchanged tree finds every file's node changed and writes every tree again — and tools that
 *   rely on atime (cleaners of unused files) would see every file as used nightly. The kernel
 *   allows it only to the file's owner or with CAP_FOWNER; otherwise (EPERM) the file is opened
 *   without it.
 * - O_NOFOLLOW: the walk described a regular file; if a symbolic link replaced it since, the open
 *   fails (ELOOP) instead of reading whatever the link points to into this file's place.
 *
 * The native file sealers (native/file_seal.c), which read a backup's files, open them the same
 * way; this is the main thread's path (`threads: 0`).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { errnoCode } from '../../core/index.js';

const READ = constants.O_RDONLY | constants.O_NOFOLLOW;
// Absent (undefined) where the platform has no such flag: nothing to add then.
const NOATIME = constants.O_NOATIME ?? 0;

export async function openSourceFile(path: Buffer): Promise<FileHandle> {
  try {
    return await open(path, READ | NOATIME);
  } catch (err) {
    if (!deniedNoAtime(err)) throw err;
    return open(path, READ);
  }
}

/** EPERM for O_NOATIME: not the file's owner and no CAP_FOWNER; open it without the flag. */
function deniedNoAtime(err: unknown): boolean {
  return NOATIME !== 0 && errnoCode(err) === 'EPERM';
}
