import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isHoldfastError } from '../../core/index.js';
import { ExcludeMatcher, parseExcludeFile, readExcludeFile } from './exclude-matcher.js';
import { pathToText } from './path-text.js';

// [pattern, path, excluded] — the semantics of restic's internal/filter Match.
const SINGLE: ReadonlyArray<readonly [string, string, boolean]> = [
  // globs within one component
  ['*.go', '/foo/bar/test.go', true],
  ['*.c', '/foo/bar/test.go', false],
  ['*', '/foo/bar/test.go', true],
  ['test.*', '/foo/bar/test.go', true],
  ['tesT.*', '/foo/bar/test.go', false],
  ['t?st.go', '/foo/bar/test.go', true],
  ['t?st.go', '/foo/bar/tst.go', false],
  ['t[aeiou]st.go', '/foo/bar/test.go', true],
  ['t[^e]st.go', '/foo/bar/test.go', false],
  ['t[a-f]st.go', '/foo/bar/test.go', true],
  ['t[x-z]st.go', '/foo/bar/test.go', false],
  ['t\\est.go', '/foo/bar/test.go', true],
  ['\\*.go', '/foo/bar/*.go', true],
  ['\\*.go', '/foo/bar/x.go', false],
  ['[*]', '/a/*', true],
  ['*', '/.hidden', true],
  // '*' and '?' never cross '/'
  ['foo*bar', '/foo/bar', false],
  ['foo?bar', '/foo/bar', false],
  ['/foo/*test.*', '/foo/bar/test.go', false],
  // unanchored: any run of components, and everything below a match
  ['bar', '/foo/bar', true],
  ['bar', '/foo/bar/baz', true],
  ['bar', '/foo/barn', false],
  ['bar', '/foobar', false],
  ['foo*', '/foo/bar/test.go', true],
  ['bar/test.go', '/foo/bar/test.go', true],
  ['bar/*.go', '/foo/bar/test.go', true],
  ['ba*/*.go', '/foo/bar/test.go', true],
  ['baz/*', '/foo/bar/test.go', false],
  ['foo/bar', '/x/foo/bar/y/z', true],
  ['sdk', '/usr/share/sdk/docs/x.html', true],
  ['*/foo', '/foo', false],
  // anchored at the root
  ['/foo', '/foo/baz', true],
  ['/foo', '/x/foo', false],
  ['/bar*', '/foo/bar/test.go', false],
  ['/foo/bar', '/foo/bar', true],
  ['/foo/bar', '/foo/baz', false],
  ['/foo/*', '/foo', false],
  ['/foo/*', '/foo/baz', true],
  ['/foo/*/test.*', '/foo/bar/test.go', true],
  ['/*/*/bar/test.*', '/foo/bar/test.go', false],
  ['/*/*/baz/test.*', '/foo/bar/baz/test.go', true],
  ['/foo/bar', 'foo/bar', false],
  // cleaned like filepath.Clean
  ['/foo/bar/', '/foo/bar', true],
  ['/foo///bar', '/foo/bar', true],
  ['/foo/../bar', '/foo/bar', false],
  ['/foo/../bar', '/bar', true],
  ['./foo', '/x/foo', true],
  // ** spans any number of components, zero included
  ['**', '/foo/bar/test.go', true],
  ['/**', '/anything', true],
  ['foo/**/bar/*.go', '/home/user/foo/work/special/project/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/bar/test.go', true],
  ['foo/**/bar/*.go', '/foo/bar/baz/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/test.c', false],
  ['foo/**/bar/*.go', '/bar/foo/main.go', false],
  ['foo/**/bar', '/home/user/foo/x/y/bar/main.go', true],
  ['foo/**/bar/**/x', '/home/user/foo/blaaa/blaz/bar/shared/work/x', true],
  ['user/**/important*', '/home/user/work/x/y/hidden/x', false],
  ['/home/**/cache', '/home/a/b/cache/file', true],
  ['/home/**/cache', '/var/home/a/cache', false],
  ['foo/**', '/x/foo', true],
  ['**/foo', '/x/y/foo/z', true],
  // names are matched as bytes, not as JavaScript strings
  ['.cache', '/home/user/.cache/thumbs', true],
  ['*.tmp', '/a/b\nc.tmp', true],
  ['é*', '/déjà/élan', true],
  ['?', '/a/é', true],
];

void describe('ExcludeMatcher', () => {
  for (const [pattern, path, excluded] of SINGLE) {
    void it(`${JSON.stringify(pattern)} ${excluded ? 'excludes' : 'keeps'} ${JSON.stringify(path)}`, () => {
      const matcher = new ExcludeMatcher([pattern]);
      assert.equal(matcher.matches(path, false), excluded);
      assert.equal(matcher.matches(Buffer.from(path), true), excluded, 'same answer for a Buffer');
    });
  }

  void it('matches names that are not UTF-8 byte by byte', () => {
    const path = Buffer.concat([
      Buffer.from('/data/'),
      Buffer.from([0x66, 0xff, 0x6f]),
      Buffer.from('/x'),
    ]);
    assert.equal(new ExcludeMatcher(['f?o']).matches(path, false), true);
    assert.equal(new ExcludeMatcher(['f*']).matches(path, false), true);
    assert.equal(new ExcludeMatcher(['fo']).matches(path, false), false);
    assert.equal(new ExcludeMatcher(['f??o']).matches(path, false), false);
    // A pattern file can name the raw bytes themselves.
    const fromFile = parseExcludeFile(
      Buffer.concat([Buffer.from('/data/'), Buffer.from([0x66, 0xff, 0x6f])]),
    );
    assert.equal(new ExcludeMatcher(fromFile).matches(path, false), true);
    assert.equal(new ExcludeMatcher(fromFile).matches('/data/f\uFFFDo', false), false);
  });

  void it('applies patterns in order, with ! including again', () => {
    const matcher = new ExcludeMatcher(['/home/user/*', '!/home/user/keep', '*.iso']);
    assert.equal(matcher.matches('/home/user/junk', false), true);
    assert.equal(matcher.matches('/home/user/keep', true), false);
    assert.equal(matcher.matches('/home/user/keep/doc.txt', false), false);
    assert.equal(matcher.matches('/home/user/keep/disk.iso', false), true);
    assert.equal(matcher.matches('/home/other', false), false);
  });

  void it('ignores case for --iexclude', () => {
    const matcher = new ExcludeMatcher(['*.JPG', '/Photos'], { ignoreCase: true });
    assert.equal(matcher.matches('/x/holiday.jpg', false), true);
    assert.equal(matcher.matches('/photos/a', false), true);
    assert.equal(new ExcludeMatcher(['*.JPG']).matches('/x/holiday.jpg', false), false);
  });

  void it('ignores empty patterns and matches nothing without patterns', () => {
    assert.equal(new ExcludeMatcher(['']).isEmpty, true);
    assert.equal(new ExcludeMatcher([]).matches('/a', false), false);
  });

  void it('rejects malformed patterns with USAGE', () => {
    for (const bad of ['test/[', 'a[]b', '[a-]', '[-a]', 'foo\\', 'x/**/[']) {
      assert.throws(
        () => new ExcludeMatcher([bad]),
        (err) => isHoldfastError(err, 'USAGE') && err.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
    // An inverted range is valid in Go and matches nothing.
    assert.equal(new ExcludeMatcher(['[z-a]']).matches('/a', false), false);
  });
});

void describe('exclude files', () => {
  void it('parses one pattern per line, trimming and skipping comments and blanks', () => {
    const text = '\uFEFF# caches\n  *.tmp  \r\n\n\t/var/cache\n#!/not/a/pattern\n!keep.tmp\n';
    assert.deepEqual(parseExcludeFile(Buffer.from(text)), ['*.tmp', '/var/cache', '!keep.tmp']);
  });

  void it('reads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-exclude-'));
    try {
      const good = join(dir, 'good');
      await writeFile(good, '*.o\n/tmp\n');
      assert.deepEqual(await readExcludeFile(good), ['*.o', '/tmp']);
      const bad = join(dir, 'bad');
      await writeFile(bad, '*.o\nbroken[\n');
      await assert.rejects(
        readExcludeFile(bad),
        (err) => isHoldfastError(err, 'CONFIG_INVALID') && err.message.includes(bad),
      );
      await assert.rejects(readExcludeFile(join(dir, 'missing')), (err) =>
        isHoldfastError(err, 'CONFIG_INVALID'),
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

void describe('pathToText', () => {
  void it('keeps valid UTF-8 and escapes each invalid byte to a distinct lone surrogate', () => {
    assert.equal(pathToText(Buffer.from('/déjà/💾')), '/déjà/💾');
    assert.equal(pathToText(Buffer.from('\uFFFD')), '\uFFFD', 'an encoded U+FFFD stays itself');
    assert.equal(pathToText(Buffer.from([0x61, 0xff, 0x62])), 'a\uDCFFb');
    // A surrogate encoded in UTF-8 (ED A0 80) and an overlong '/' (C0 AF) are not valid UTF-8.
    assert.equal(pathToText(Buffer.from([0xed, 0xa0, 0x80])), '\uDCED\uDCA0\uDC80');
    assert.equal(pathToText(Buffer.from([0xc0, 0xaf])), '\uDCC0\uDCAF');
    assert.equal(pathToText(Buffer.from([0xe2, 0x82])), '\uDCE2\uDC82', 'truncated sequence');
  });
});
