/**
 * ExcludeMatcher: restic-compatible `--exclude` / `--iexclude` / `--exclude-file` matching (see
 * ExcludePattern for the pattern language). Patterns apply in order: a path is excluded when a
 * pattern matches it and no later negated ('!') pattern matches it again.
 */
import { readFile } from 'node:fs/promises';
import { describeError, HoldfastError } from '../../core/index.js';
import { ExcludePattern } from './exclude-pattern.js';
import { pathToText } from './path-text.js';

export interface ExcludeMatcherOptions {
  /** `--iexclude`: compare ignoring case. */
  readonly ignoreCase?: boolean;
}

export class ExcludeMatcher {
  private readonly patterns: readonly ExcludePattern[];
  private readonly hasNegated: boolean;

  /** Empty patterns are ignored, as restic does. Throws USAGE naming a malformed pattern. */
  constructor(patterns: readonly string[], options: ExcludeMatcherOptions = {}) {
    this.patterns = patterns
      .filter((p) => p !== '')
      .map((p) => new ExcludePattern(p, options.ignoreCase ?? false));
    this.hasNegated = this.patterns.some((p) => p.negated);
  }

  get isEmpty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * Whether `absPath` (absolute and clean: no '.', '..' or doubled '/') is excluded. Bytes that
   * are not UTF-8 are matched one by one, so `?` and `*` still match them.
   *
   * `isDir` is part of the contract for callers, but restic patterns do not distinguish
   * directories (cleaning drops a trailing '/'), so it does not change the answer today.
   */
  matches(absPath: Buffer | string, _isDir: boolean): boolean {
    if (this.patterns.length === 0) return false;
    const text = typeof absPath === 'string' ? absPath : pathToText(absPath);
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.negated) {
        if (matched && pattern.test(text)) matched = false;
      } else if (!matched && pattern.test(text)) {
        // Without negations nothing later can change the answer.
        if (!this.hasNegated) return true;
        matched = true;
      }
    }
    return matched;
  }
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The patterns of an `--exclude-file`: one per line, surrounding white space trimmed, blank
 * lines and lines starting with '#' ignored. Bytes that are not UTF-8 are kept (as in
 * pathToText), so a pattern can name a file whose name is not UTF-8.
 */
export function parseExcludeFile(content: Buffer): string[] {
  const body = content.subarray(0, 3).equals(UTF8_BOM) ? content.subarray(3) : content;
  return pathToText(body)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Reads an `--exclude-file`. Rejects with CONFIG_INVALID when the file cannot be read or holds a
 * malformed pattern, naming the file. The result goes after `--exclude` patterns, as in restic.
 */
export async function readExcludeFile(path: string): Promise<string[]> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (err) {
    throw new HoldfastError(
      'CONFIG_INVALID',
      `cannot read exclude file ${path}: ${describeError(err)}`,
      {
        hint: 'check the --exclude-file path',
        cause: err,
      },
    );
  }
  const patterns = parseExcludeFile(content);
  // Compile each pattern now, so that a bad line is reported against this file.
  for (const pattern of patterns) {
    try {
      new ExcludePattern(pattern);
    } catch (err) {
      throw new HoldfastError('CONFIG_INVALID', `exclude file ${path}: ${describeError(err)}`, {
        hint: 'patterns use *, ** and ?, [...] classes and \\ escapes; escape a literal [ as \\[',
        cause: err,
      });
    }
  }
  return patterns;
}
