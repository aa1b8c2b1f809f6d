/** Reading an entry's extended attributes through the native addon, without following symlinks. */
import { errnoCode } from '../../core/index.js';
import type { ExtendedAttribute } from './fs-entry.js';
import { lgetxattr, llistxattr } from './native.js';

/**
 * All attributes of `path`, sorted by name bytes so that identical files give identical trees.
 * A file system without xattr support (ENOTSUP) has none; an attribute removed between listing
 * and reading (ENODATA) is skipped. Other errors (EACCES, EIO, ...) are thrown: an entry whose
 * attributes cannot be read is reported rather than silently saved without them.
 */
export function readXattrs(path: Buffer): ExtendedAttribute[] {
  let names: Buffer[];
  try {
    names = llistxattr(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOTSUP') return [];
    throw err;
  }
  const xattrs: ExtendedAttribute[] = [];
  for (const name of names.sort((x, y) => Buffer.compare(x, y))) {
    try {
      xattrs.push({ name, value: lgetxattr(path, name) });
    } catch (err) {
      if (errnoCode(err) === 'ENODATA') continue;
      throw err;
    }
  }
  return xattrs;
}
