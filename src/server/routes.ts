/**
 * Request paths of the repository server (docs/design/repository-server.md, "Paths"). A path is
 * an optional repository prefix followed by what the ObjectStore operation addresses:
 *
 *   /PREFIX/                 POST: create the repository
 *   /PREFIX/config           GET, HEAD, PUT, DELETE: the config object
 *   /PREFIX/KIND/NAME        GET, HEAD, PUT, DELETE: an object (KIND = key|pack|index|snapshot|lock)
 *   /PREFIX/KIND/            GET: list the objects of a kind
 *
 * PREFIX is zero or more segments naming a repository below the served directory. Segments are
 * plain names (letters, digits, `_`, `-`, `.` not first) and never a kind or a layout directory,
 * so a prefix can neither escape the directory nor land inside another repository's layout, and
 * every path parses one way only. Anything else is rejected rather than normalised.
 */
import { HoldfastError } from '../core/index.js';
import { CONFIG_NAME, isValidObjectName, OBJECT_KINDS, type ObjectKind } from '../storage/index.js';

export type Route =
  | { readonly op: 'repository'; readonly prefix: readonly string[] }
  | { readonly op: 'list'; readonly prefix: readonly string[]; readonly kind: ObjectKind }
  | {
      readonly op: 'object';
      readonly prefix: readonly string[];
      readonly kind: ObjectKind;
      readonly name: string;
    };

const MAX_PREFIX_DEPTH = 8;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** Kind names and the local layout's directory names (storage/local/local-layout.ts). */
const RESERVED = new Set<string>([...OBJECT_KINDS, 'keys', 'data', 'snapshots', 'locks', 'tmp']);
const ID_KINDS = new Set<string>(OBJECT_KINDS.filter((k) => k !== 'config'));

/** Parses the path part of a request URL (no query string). Throws USAGE for a bad path. */
export function parseRoute(pathname: string): Route {
  if (!pathname.startsWith('/')) throw badPath('must start with /');
  const dir = pathname.endsWith('/');
  const segments = pathname.slice(1, dir ? -1 : undefined).split('/');
  if (segments.length === 1 && segments[0] === '') return { op: 'repository', prefix: [] };
  const last = segments[segments.length - 1]!;
  if (dir) {
    if (ID_KINDS.has(last))
      return { op: 'list', prefix: prefix(segments.slice(0, -1)), kind: kind(last) };
    return { op: 'repository', prefix: prefix(segments) };
  }
  if (last === CONFIG_NAME)
    return {
      op: 'object',
      prefix: prefix(segments.slice(0, -1)),
      kind: 'config',
      name: CONFIG_NAME,
    };
  const kindSegment = segments[segments.length - 2];
  if (kindSegment !== undefined && ID_KINDS.has(kindSegment)) {
    const k = kind(kindSegment);
    if (!isValidObjectName(k, last)) throw badPath(`invalid ${k} name`);
    return { op: 'object', prefix: prefix(segments.slice(0, -2)), kind: k, name: last };
  }
  return { op: 'repository', prefix: prefix(segments) };
}

/** The prefix as the client wrote it, for messages: "/" or "/host-a/". */
export function describePrefix(prefix: readonly string[]): string {
  return prefix.length === 0 ? '/' : `/${prefix.join('/')}/`;
}

function prefix(segments: readonly string[]): string[] {
  if (segments.length > MAX_PREFIX_DEPTH) throw badPath('repository prefix is too deep');
  for (const s of segments) {
    if (!SEGMENT.test(s) || RESERVED.has(s))
      throw badPath(`"${s.slice(0, 64)}" is not a valid repository prefix segment`);
  }
  return [...segments];
}

function kind(segment: string): ObjectKind {
  return segment as ObjectKind;
}

function badPath(why: string): HoldfastError {
  return new HoldfastError('USAGE', `bad request path: ${why}`, {
    hint: 'see docs/design/repository-server.md for the paths the server accepts',
  });
}
