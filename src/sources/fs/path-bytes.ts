/** Byte-level path helpers: names may not be UTF-8, so paths stay Buffers end to end. */

const SLASH = 0x2f;
const SLASH_BUFFER = Buffer.from('/');

/** `dir/name`, without doubling the slash when `dir` is the root. */
export function joinPath(dir: Buffer, name: Buffer): Buffer {
  return dir[dir.length - 1] === SLASH
    ? Buffer.concat([dir, name])
    : Buffer.concat([dir, SLASH_BUFFER, name]);
}

/** The last component of a path (`/` for the root). */
export function baseName(path: Buffer): Buffer {
  let end = path.length;
  while (end > 1 && path[end - 1] === SLASH) end--;
  const start = path.lastIndexOf(SLASH, end - 1) + 1;
  return start >= end ? path.subarray(0, end) : path.subarray(start, end);
}

/** A path for messages: invalid UTF-8 shows as U+FFFD; the bytes themselves are never altered. */
export function displayPath(path: Buffer): string {
  return path.toString('utf8');
}
