import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  link,
  mkdir,
  mkdtemp,
  rm,
  symlink,
  truncate,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHoldfastError } from '../../core/index.js';
import { AccountNames } from './account-names.js';
import { listDirectory, statNames } from './list-directory.js';
import { lsetxattr, mknod, scanDirectory } from './native.js';
import { briefScan, decodeScan } from './scan-record.js';
import { joinPath } from './path-bytes.js';
import { statEntry } from './stat-entry.js';

const b = (s: string): Buffer => Buffer.from(s);
const NON_UTF8 = Buffer.from([0x66, 0xff, 0x6f]);
const LONG_NAME = Buffer.alloc(255, 'x');

void describe('listDirectory', () => {
  let root = '';
  let dir: Buffer = Buffer.alloc(0);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-list-'));
    dir = b(join(root, 'tree'));
    await mkdir(dir);
    await writeFile(joinPath(dir, b('b.txt')), 'hello');
    await writeFile(joinPath(dir, b('a')), '');
    await writeFile(joinPath(dir, NON_UTF8), 'not utf-8');
    await writeFile(joinPath(dir, LONG_NAME), 'long');
    await writeFile(joinPath(dir, b('B')), '');
    await mkdir(joinPath(dir, b('sub')), { mode: 0o750 });
    await symlink(Buffer.concat([b('target-'), NON_UTF8]), joinPath(dir, b('link')));
    mknod(joinPath(dir, b('fifo')), constants.S_IFIFO | 0o600, 0, 0);
    mknod(joinPath(dir, b('socket')), constants.S_IFSOCK | 0o600, 0, 0);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('lists every entry sorted by name bytes, with types and raw names', async () => {
    const listing = await listDirectory(dir);
    assert.deepEqual(listing.errors, []);
    const names = listing.entries.map((e) => e.name);
    const expected = [
      b('B'),
      b('a'),
      b('b.txt'),
      NON_UTF8,
      b('fifo'),
      b('link'),
      b('socket'),
      b('sub'),
      LONG_NAME,
    ];
    assert.deepEqual(
      names,
      expected.sort((x, y) => Buffer.compare(x, y)),
    );
    const byName = new Map(listing.entries.map((e) => [e.name.toString('latin1'), e]));
    const entry = (name: Buffer) => byName.get(name.toString('latin1'))!;

    assert.equal(entry(b('b.txt')).type, 'file');
    assert.equal(entry(b('b.txt')).size, 5);
    assert.deepEqual(entry(b('b.txt')).path, joinPath(dir, b('b.txt')));
    assert.equal(entry(NON_UTF8).type, 'file');
    assert.deepEqual(entry(NON_UTF8).path, Buffer.concat([dir, b('/'), NON_UTF8]));
    assert.equal(entry(LONG_NAME).size, 4);
    assert.equal(entry(b('sub')).type, 'dir');
    assert.equal(entry(b('sub')).mode & 0o700, 0o700);
    assert.equal(entry(b('fifo')).type, 'fifo');
    assert.equal(entry(b('socket')).type, 'socket');
    const link = entry(b('link'));
    assert.equal(link.type, 'symlink');
    assert.deepEqual(link.linkTarget, Buffer.concat([b('target-'), NON_UTF8]));
    assert.equal(link.size, link.linkTarget?.length);
  });

  void it('describes every entry exactly as the synchronous path does', async () => {
    const kinds = b(join(root, 'kinds'));
    await mkdir(kinds);
    const file = joinPath(kinds, b('attrs'));
    await writeFile(file, 'with attributes');
    lsetxattr(file, b('user.b'), b('second'));
    lsetxattr(file, b('user.a'), Buffer.alloc(3000, 1));
    lsetxattr(file, b('user.empty'), Buffer.alloc(0));
    await link(file, joinPath(kinds, b('hardlink')));
    await writeFile(joinPath(kinds, b('sparse')), 'x');
    await truncate(joinPath(kinds, b('sparse')), 1 << 24);
    await symlink(Buffer.alloc(4000, 'l'), joinPath(kinds, b('long-link')));
    await mkdir(joinPath(kinds, b('dir')), { mode: 0o1777 });
    if (process.getuid?.() === 0)
      mknod(joinPath(kinds, b('null')), constants.S_IFCHR | 0o666, 1, 3);
    await listDirectory(kinds); // reading link targets sets their access times once (relatime)
    const scanned = await listDirectory(kinds);
    const names = scanned.entries.map((e) => e.name);
    const synchronous = await statNames(kinds, names);
    assert.deepEqual(scanned.errors, []);
    assert.deepEqual(scanned.entries, synchronous.entries);
    const attrs = scanned.entries.find((e) => e.name.equals(b('attrs')))!;
    assert.deepEqual(
      attrs.xattrs?.map((x) => x.name.toString()),
      ['user.a', 'user.b', 'user.empty'],
    );
    assert.equal(attrs.links, 2);
  });

  void it('a listing recognised by its digest decodes its subdirectories only', async () => {
    lsetxattr(joinPath(dir, b('b.txt')), b('user.note'), b('v'));
    const full = await listDirectory(dir);
    const asked: Buffer[] = [];
    const known = await listDirectory(dir, {
      isKnown: (d, digest) => {
        asked.push(digest);
        return d.equals(dir);
      },
    });
    assert.deepEqual(asked, [full.digest]);
    assert.ok(known.known);
    assert.deepEqual(known.errors, []);
    assert.deepEqual(known.digest, full.digest);
    assert.deepEqual(
      known.entries,
      full.entries.filter((e) => e.type === 'dir'),
    );
    assert.deepEqual(
      known.known.others.map((e) => [e.name.toString('latin1'), e.type, e.size]),
      full.entries
        .filter((e) => e.type !== 'dir')
        .map((e) => [e.name.toString('latin1'), e.type, e.size]),
    );
    assert.deepEqual(await known.known.decodeAll(), full);
    // Not recognised: decoded as always.
    const other = await listDirectory(dir, { isKnown: () => false });
    assert.equal(other.known, undefined);
    assert.deepEqual(other, full);
  });

  void it('digests listings without their access times', async () => {
    const before = await listDirectory(dir);
    const file = joinPath(dir, b('b.txt'));
    const { atime, mtime } = await import('node:fs').then((fs) => fs.statSync(file));
    await utimes(file, new Date(atime.getTime() + 5000), mtime);
    const moved = await listDirectory(dir);
    // utimes moves the change time too, and that counts; the access time alone does not.
    assert.notDeepEqual(moved.digest, before.digest);
    const scan = await scanDirectory(dir);
    const atimes: number[] = [];
    briefScan(scan, atimes);
    const offsets: number[] = [];
    decodeScan(scan, offsets);
    assert.deepEqual(atimes, offsets);
    assert.equal(atimes.length, before.entries.length);
    const altered = Buffer.from(scan);
    for (const at of atimes) altered.fill(0x5a, at, at + 12);
    const zeroed = (buf: Buffer): Buffer => {
      const copy = Buffer.from(buf);
      for (const at of atimes) copy.fill(0, at, at + 12);
      return copy;
    };
    assert.deepEqual(zeroed(altered), zeroed(scan));
    assert.equal(
      createHash('sha256').update(zeroed(scan)).digest('hex'),
      moved.digest!.toString('hex'),
    );
  });

  void it('skips an entry deleted between readdir and lstat', async () => {
    const listing = await statNames(dir, [b('a'), b('deleted-meanwhile'), b('b.txt')]);
    assert.deepEqual(listing.errors, []);
    assert.deepEqual(
      listing.entries.map((e) => e.name.toString()),
      ['a', 'b.txt'],
    );
  });

  void it('reports an entry that cannot be statted without aborting the listing', async () => {
    const tooLong = Buffer.alloc(256, 'y'); // NAME_MAX is 255: lstat fails with ENAMETOOLONG
    const listing = await statNames(dir, [tooLong, b('a')]);
    assert.deepEqual(
      listing.entries.map((e) => e.name.toString()),
      ['a'],
    );
    assert.equal(listing.errors.length, 1);
    assert.deepEqual(listing.errors[0]!.path, joinPath(dir, tooLong));
    assert.equal((listing.errors[0]!.error as { code?: string }).code, 'ENAMETOOLONG');
  });

  void it('survives files being deleted while it lists', async (t) => {
    // The scan runs in the thread pool beside the unlinks, so how many entries it still sees
    // varies; what must hold every time is that vanished entries are neither errors nor ghosts.
    const busy = b(join(root, 'busy'));
    await mkdir(busy);
    const names = Array.from({ length: 2000 }, (_, i) => b(`file-${String(i).padStart(4, '0')}`));
    await Promise.all(names.map((n) => writeFile(joinPath(busy, n), '')));
    const listing = listDirectory(busy);
    const removed = Promise.all(names.map((n) => unlink(joinPath(busy, n))));
    const result = await listing;
    await removed;
    assert.deepEqual(result.errors, []);
    const known = new Set(names.map((n) => n.toString()));
    for (const e of result.entries) assert.ok(known.has(e.name.toString()), e.name.toString());
    t.diagnostic(`${result.entries.length} of ${names.length} entries seen`);
    const after = await listDirectory(busy);
    assert.deepEqual(after.entries, []);
  });

  void it('rejects with the readdir error when the directory cannot be read', async () => {
    await assert.rejects(listDirectory(b(join(root, 'missing'))), { code: 'ENOENT' });
    await assert.rejects(listDirectory(joinPath(dir, b('a'))), { code: 'ENOTDIR' });
  });

  void it('stops when the signal fires', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(listDirectory(dir, { signal: controller.signal }), (err) =>
      isHoldfastError(err, 'INTERRUPTED'),
    );
  });
});

void describe('statEntry', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'holdfast-stat-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('describes a file from lstat with nanosecond times and owner names', async () => {
    const path = b(join(root, 'file'));
    await writeFile(path, 'abc', { mode: 0o4755 });
    const accounts = new AccountNames({ passwd: '/etc/passwd', group: '/etc/group' });
    const entry = await statEntry(path, { accountNames: accounts });
    assert.equal(entry.type, 'file');
    assert.deepEqual(entry.name, b('file'));
    assert.equal(entry.mode, 0o4755 & ~process.umask());
    assert.equal(entry.uid, process.getuid!());
    assert.equal(entry.user, 'root');
    assert.equal(entry.group, 'root');
    assert.equal(entry.links, 1);
    assert.equal(typeof entry.mtimeNs, 'bigint');
    assert.equal(entry.sparse, false);
    assert.equal(entry.rdev, undefined);
    assert.equal(entry.xattrs, undefined);
  });

  void it('leaves out names the account files do not know', async () => {
    const path = b(join(root, 'nobody-knows'));
    await writeFile(path, '');
    const accounts = new AccountNames({
      passwd: join(root, 'no-passwd'),
      group: join(root, 'no-group'),
    });
    const entry = await statEntry(path, { accountNames: accounts });
    assert.equal('user' in entry, false);
    assert.equal('group' in entry, false);
  });

  void it('flags sparse files and reports device numbers', async () => {
    const path = b(join(root, 'sparse'));
    await writeFile(path, 'x');
    await truncate(path, 64 * 1024 * 1024);
    assert.equal((await statEntry(path)).sparse, true);
    const devNull = await statEntry(b('/dev/null'));
    assert.equal(devNull.type, 'chardev');
    assert.equal(typeof devNull.rdev, 'bigint');
    assert.equal(devNull.sparse, undefined);
  });

  void it('describes the root directory', async () => {
    const entry = await statEntry(b('/'));
    assert.equal(entry.type, 'dir');
    assert.deepEqual(entry.name, b('/'));
  });
});
