/**
 * ExcludePattern: one restic `--exclude` pattern compiled to a regular expression over a whole
 * path. Semantics follow restic's internal/filter:
 *
 * - The pattern is cleaned like Go's filepath.Clean ("a//b/" → "a/b", "/a/../b" → "/b") and
 *   split into components; each component is a Go filepath.Match glob: `*` (any run of
 *   non-'/' characters), `?` (one character), `[...]`/`[^...]` classes with ranges, `\x` escapes.
 * - A component `**` matches any number of components, zero included.
 * - A pattern starting with '/' is anchored at the root; any other pattern may match starting at
 *   any component ("foo/bar" matches "/x/foo/bar").
 * - Matching a prefix is enough: a pattern that matches a directory matches everything in it
 *   ("foo" matches "/a/foo" and "/a/foo/b").
 * - A leading '!' negates: a path matched by an earlier pattern is included again.
 */
import { HoldfastError } from '../../core/index.js';

const DOUBLE_STAR = Symbol('**');
type Component = string | typeof DOUBLE_STAR;

export class ExcludePattern {
  readonly negated: boolean;
  private readonly regex: RegExp;

  /** Throws USAGE for a malformed pattern (unclosed '[', trailing '\', misplaced '-' or ']'). */
  constructor(
    readonly source: string,
    ignoreCase = false,
  ) {
    this.negated = source.startsWith('!');
    const body = this.negated ? source.slice(1) : source;
    try {
      this.regex = new RegExp(compile(cleanPattern(body)), ignoreCase ? 'isu' : 'su');
    } catch (err) {
      throw new HoldfastError('USAGE', `invalid exclude pattern ${JSON.stringify(source)}`, {
        hint: 'patterns use *, ** and ?, [...] classes and \\ escapes; escape a literal [ as \\[',
        cause: err,
      });
    }
  }

  /** Whether the pattern matches `path` (text from pathToText), negation not applied. */
  test(path: string): boolean {
    return this.regex.test(path);
  }
}

/** Go's filepath.Clean for '/'-separated patterns. */
function cleanPattern(pattern: string): string {
  const rooted = pattern.startsWith('/');
  const out: string[] = [];
  for (const part of pattern.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

function compile(cleaned: string): string {
  const anchored = cleaned.startsWith('/');
  const components: Component[] = (anchored ? cleaned.slice(1) : cleaned)
    .split('/')
    // "/" alone cleans to one empty component, which restic reads as "**": it matches all.
    .map((part) => (part === '**' || part === '' ? DOUBLE_STAR : compileGlob(part)));
  // A trailing ** adds nothing: matching the directory already matches its contents.
  while (components[components.length - 1] === DOUBLE_STAR) components.pop();
  // An unanchored pattern starts at a component boundary, but never at the root of an absolute
  // path: the `(?!/)` keeps `*` from matching the empty name before the leading '/'.
  const start = anchored ? '^/' : '^(?:.*/)?(?!/)';
  if (components.length === 0) return anchored ? start : `${start}[^/]*(?:/.*)?$`;

  let body = '';
  components.forEach((component, index) => {
    if (component === DOUBLE_STAR) body += '(?:[^/]*/)*';
    else body += index < components.length - 1 ? `${component}/` : component;
  });
  return `${start}${body}(?:/.*)?$`;
}

/** One component's Go filepath.Match glob as a regex fragment that never matches '/'. */
function compileGlob(glob: string): string {
  const chars = Array.from(glob);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const [fragment, next] = compileClass(chars, i + 1);
      out += fragment;
      i = next - 1;
    } else if (c === '\\') {
      i++;
      if (i >= chars.length) throw new Error('trailing backslash');
      out += literal(chars[i]!);
    } else out += literal(c);
  }
  return out;
}

/** A `[...]` class starting after the '['; returns the fragment and the index after ']'. */
function compileClass(chars: readonly string[], start: number): [string, number] {
  let i = start;
  const negated = chars[i] === '^';
  if (negated) i++;
  let ranges = '';
  for (let count = 0; ; count++) {
    if (chars[i] === ']' && count > 0) {
      i++;
      break;
    }
    const [lo, afterLo] = classChar(chars, i);
    let hi = lo;
    i = afterLo;
    if (chars[i] === '-') [hi, i] = classChar(chars, i + 1);
    // Go accepts an inverted range and lets it match nothing; a RegExp would reject it.
    if (lo.codePointAt(0)! <= hi.codePointAt(0)!) {
      ranges += lo === hi ? literal(lo) : `${literal(lo)}-${literal(hi)}`;
    }
  }
  return [negated ? `[^/${ranges}]` : `(?!/)[${ranges}]`, i];
}

/** Go's getEsc: one possibly escaped class character; '-' and ']' must be escaped here. */
function classChar(chars: readonly string[], start: number): [string, number] {
  let i = start;
  if (chars[i] === undefined || chars[i] === '-' || chars[i] === ']') {
    throw new Error('malformed character class');
  }
  if (chars[i] === '\\') i++;
  const c = chars[i];
  if (c === undefined || i + 1 >= chars.length) throw new Error('unterminated character class');
  return [c, i + 1];
}

function literal(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}
