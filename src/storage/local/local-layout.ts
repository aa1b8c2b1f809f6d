/**
 * On-disk layout of a local repository (a format rule: other tools and older holdfast versions
 * read the same paths; see docs/design/repository-format.md, "Storage"):
 *
 *   config                 the config object (file at the root)
 *   keys/<name>            key objects
 *   data/<name[0..2]>/<name>  packs, fanned out over 256 subdirectories `00`..`ff` so that no
 *                          directory grows past a few thousand entries
 *   index/<name>           index objects
 *   snapshots/<name>       snapshot objects
 *   locks/<name>           lock objects
 *   tmp/<random>           in-flight writes; never an object, removed by cleanTmp once stale
 *
 * Directories are mode 0700 and files 0600: key files hold wrapped master keys.
 */
import { join } from 'node:path';
import type { ObjectKind } from '../object-store.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
export const TMP_DIR = 'tmp';
export const DATA_DIR = 'data';

const KIND_DIRS = {
  key: 'keys',
  pack: DATA_DIR,
  index: 'index',
  snapshot: 'snapshots',
  lock: 'locks',
} as const satisfies Record<Exclude<ObjectKind, 'config'>, string>;

/** The 256 fan-out subdirectory names of data/, `00` to `ff`. */
export const DATA_SUBDIRS: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/** Every directory `create()` makes, relative to the root, parents first. */
export const LAYOUT_DIRS: readonly string[] = [
  ...Object.values(KIND_DIRS),
  TMP_DIR,
  ...DATA_SUBDIRS.map((sub) => join(DATA_DIR, sub)),
];

/** Path of an object; the name must already be validated (object-name.ts). */
export function objectPath(root: string, kind: ObjectKind, name: string): string {
  if (kind === 'config') return join(root, 'config');
  if (kind === 'pack') return join(root, DATA_DIR, name.slice(0, 2), name);
  return join(root, KIND_DIRS[kind], name);
}

/** The directory holding objects of a kind (for packs, the parent of the fan-out dirs). */
export function kindDir(root: string, kind: Exclude<ObjectKind, 'config'>): string {
  return join(root, KIND_DIRS[kind]);
}
