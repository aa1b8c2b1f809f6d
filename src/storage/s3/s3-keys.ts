/**
 * Object keys in a bucket: the local layout (local-layout.ts) under the location's prefix, so a
 * repository can be moved between a directory and a bucket with a plain file copy:
 * `config`, `keys/ID`, `data/ID[0..2]/ID`, `index/ID`, `snapshots/ID`, `locks/ID`.
 */
import { isValidObjectName } from '../object-name.js';
import type { ObjectKind } from '../object-store.js';

const KIND_DIRS = {
  key: 'keys',
  pack: 'data',
  index: 'index',
  snapshot: 'snapshots',
  lock: 'locks',
} as const satisfies Record<Exclude<ObjectKind, 'config'>, string>;

export class S3Keys {
  readonly #root: string;

  constructor(prefix: string) {
    this.#root = prefix === '' ? '' : `${prefix}/`;
  }

  /** Key of an object; the name must already be validated. */
  key(kind: ObjectKind, name: string): string {
    if (kind === 'config') return `${this.#root}config`;
    if (kind === 'pack') return `${this.#root}data/${name.slice(0, 2)}/${name}`;
    return `${this.#root}${KIND_DIRS[kind]}/${name}`;
  }

  /** The prefix a listing of `kind` uses (config: the key itself). */
  listPrefix(kind: ObjectKind): string {
    if (kind === 'config') return `${this.#root}config`;
    return `${this.#root}${KIND_DIRS[kind]}/`;
  }

  /** The object name of a listed key, or undefined for keys that are not objects of `kind`. */
  nameOf(kind: ObjectKind, key: string): string | undefined {
    const prefix = this.listPrefix(kind);
    if (!key.startsWith(prefix)) return undefined;
    if (kind === 'config') return key === prefix ? 'config' : undefined;
    let rest = key.slice(prefix.length);
    if (kind === 'pack') {
      // A pack outside its fan-out "directory" is unreachable by get, so it is not listed either.
      const slash = rest.indexOf('/');
      if (slash !== 2 || !rest.startsWith(rest.slice(slash + 1, slash + 3))) return undefined;
      rest = rest.slice(3);
    }
    return isValidObjectName(kind, rest) ? rest : undefined;
  }
}
