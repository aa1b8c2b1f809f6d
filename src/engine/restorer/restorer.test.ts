import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger, type BlobId, type PackId } from '../../core/index.js';
import { LocalStore, MemoryStore, type ObjectStore } from '../../storage/index.js';
import { CountingStore } from '../../storage/testing/counting-store.js';
import { encodeTree, type Node } from '../format/index.js';
import { MasterIndex } from '../index/index.js';
import { Repository } from '../repository/index.js';
import { BATCHES_PER_WORKER, MAX_FILES, SPLIT_FROM } from './file-batcher.js';
import { coalesce } from './pack-reader.js';
import { Restorer, type RestoreOptions } from './restorer.js';
import { OPEN_PACKS } from './workers/pack-files.js';

const owner = { username: 'u', hostname: 'h' };
const cheap = { N: 1024, r: 8, p: 1 };
const MiB = 1024 * 1024;
/** Every time of the nodes `node` makes. */
const SNAPSHOT_TIME_NS = 1_700_000_000_000_000_000n;

/** Deterministic incompressible bytes, so blobs keep their size in packs. */
function bytesOf(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(seed).digest();
  for (let pos = 0; pos < length; pos += block.length) {
    block.copy(out, pos);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function node(name: string, type: Node['type'], extra: Partial<Node> = {}): Node {
  return {
    name: Buffer.from(name),
    type,
    mode: type === 'dir' ? 0o755 : 0o644,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    mtimeNs: SNAPSHOT_TIME_NS,
    atimeNs: SNAPSHOT_TIME_NS,
    ctimeNs: SNAPSHOT_TIME_NS,
    inode: 0n,
    deviceId: 0n,
    links: 1,
    ...extra,
  };
}

/**
 * Where the repository lives: in memory, whose pack ranges the main thread reads and transfers
 * to the workers, or in a directory, whose pack files the workers read themselves.
 */
type StoreKind = 'memory' | 'local';

/** A repository with small packs (so a few MiB span several) and helpers to build a snapshot. */
class Fixture {
  private constructor(
    readonly store: ObjectStore,
    readonly repo: Repository,
    /** What the repository warned about (a blob read again from elsewhere, say). */
    readonly warnings: string[],
  ) {}

  static async create(
    kind: StoreKind,
    tmp: string,
    packSize = 4 * MiB,
    compression: 'off' | 'auto' = 'off',
  ): Promise<Fixture> {
    const store =
      kind === 'memory' ? new MemoryStore() : new LocalStore(await mkdtemp(join(tmp, 'repo-')));
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    await Repository.init(store, 'pw', {
      owner,
      kdfCost: cheap,
      packSize,
      compression,
    });
    // Opened again for its logger (init takes none).
    const repo = await Repository.open(store, 'pw', { logger });
    await repo.loadIndex();
    return new Fixture(store, repo, warnings);
  }

  readonly writer = (): ReturnType<Repository['writer']> => (this.w ??= this.repo.writer());
  private w: ReturnType<Repository['writer']> | undefined;

  async blob(data: Buffer): Promise<BlobId> {
    return (await this.writer().save('data', data)).id;
  }

  file(name: string, blobs: readonly BlobId[]): Node {
    return node(name, 'file', { content: blobs });
  }

  async tree(nodes: Node[]): Promise<BlobId> {
    nodes.sort((a, b) => Buffer.compare(a.name, b.name));
    return (await this.writer().save('tree', encodeTree({ nodes }))).id;
  }

  async dir(name: string, nodes: Node[]): Promise<Node> {
    return node(name, 'dir', { subtree: await this.tree(nodes) });
  }

  async flush(): Promise<void> {
    await this.writer().flush();
  }

  /**
   * Stores `data` again, in a pack and an index file of its own, through a writer that does not
   * deduplicate against the repository's index (as a concurrent backup would not), and opens the
   * repository again so that it knows both copies; that opening's warnings go to `warnings`.
   */
  async storeAgain(data: Buffer): Promise<{ repo: Repository; warnings: string[] }> {
    const again = this.repo.writer({ index: new MasterIndex() });
    await again.save('data', data);
    await again.flush();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const repo = await Repository.open(this.store, 'pw', { logger });
    await repo.loadIndex();
    return { repo, warnings };
  }
}

async function restore(
  repo: Repository,
  tree: BlobId,
  target: string,
  options: Pick<RestoreOptions, 'onProgress' | 'verify' | 'workers'> = {},
) {
  return new Restorer({ repo, tree, target, owner: false, ...options }).restore();
}

/** Flips one byte of a stored pack, as a failing disk or a careless server might. */
async function flipByte(store: ObjectStore, packId: PackId, at: number): Promise<void> {
  const bytes = await store.get('pack', packId);
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  await store.delete('pack', packId);
  await store.put('pack', packId, bytes);
}

/** Flips a byte in the middle of where the index says `id` is stored. */
async function damageBlob(repo: Repository, store: ObjectStore, id: BlobId): Promise<PackId> {
  const loc = repo.locate(id)!;
  await flipByte(store, loc.packId, loc.offset + Math.floor(loc.length / 2));
  return loc.packId;
}

for (const kind of ['memory', 'local'] as const)
  void describe(`Restorer (${kind} repository)`, () => {
    let tmp = '';
    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'holdfast-restorer-'));
    });
    after(() => rm(tmp, { recursive: true, force: true }));

    void it('writes a blob shared by many files and by several positions of one file', async () => {
      const f = await Fixture.create(kind, tmp);
      const x = bytesOf('x', 300_000);
      const y = bytesOf('y', 5_000);
      const [bx, by] = [await f.blob(x), await f.blob(y)];
      const nodes = [f.file('repeated', [bx, by, bx, bx])];
      for (let i = 0; i < 40; i++) nodes.push(f.file(`copy${i}`, [bx]));
      nodes.push(f.file('empty', []));
      const tree = await f.tree(nodes);
      await f.flush();
      const target = join(tmp, 'shared');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(result.errors, []);
      assert.equal(result.files, 42);
      assert.deepEqual(await readFile(join(target, 'repeated')), Buffer.concat([x, y, x, x]));
      for (let i = 0; i < 40; i++) assert.deepEqual(await readFile(join(target, `copy${i}`)), x);
      assert.equal((await readFile(join(target, 'empty'))).length, 0);
      // Every blob came from where the index says, not from the fallback path.
      assert.deepEqual(f.warnings, []);
    });

    void it('restores a file whose blobs span many packs, in any order', async () => {
      const f = await Fixture.create(kind, tmp);
      const parts = Array.from({ length: 14 }, (_, i) => bytesOf(`part${i}`, MiB + i * 1000));
      const ids: BlobId[] = [];
      for (const p of parts) ids.push(await f.blob(p));
      // Out of pack order, with a repeat: positions do not follow pack offsets.
      const order = [13, 2, 7, 0, 11, 5, 9, 1, 12, 3, 8, 6, 10, 4, 2];
      const tree = await f.tree([
        f.file(
          'big',
          order.map((i) => ids[i]!),
        ),
      ]);
      await f.flush();
      let packs = 0;
      for await (const p of f.store.list('pack')) if (p.name) packs++;
      assert.ok(packs >= 4, `the file spans ${packs} packs`);
      const target = join(tmp, 'spanning');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(result.errors, []);
      const expected = Buffer.concat(order.map((i) => parts[i]!));
      assert.deepEqual(await readFile(join(target, 'big')), expected);
      assert.equal(result.bytes, expected.length);
      assert.deepEqual(f.warnings, []);
    });

    void it('restores blobs a range joins across blobs it does not need', async () => {
      const f = await Fixture.create(kind, tmp);
      const datas = Array.from({ length: 6 }, (_, i) => bytesOf(`spread${i}`, 100_000));
      const ids: BlobId[] = [];
      for (const d of datas) ids.push(await f.blob(d));
      await f.flush();
      // The first and the fourth blob in pack order: 200 kB of other blobs between them, read
      // as one range (gap < MAX_GAP) but, from a local pack, as two separate parts.
      const order = ids
        .map((_, i) => i)
        .sort((a, b) => f.repo.locate(ids[a]!)!.offset - f.repo.locate(ids[b]!)!.offset);
      const [first, fourth] = [order[0]!, order[3]!];
      const wanted = [first, fourth].map((i) => ({ id: ids[i]!, loc: f.repo.locate(ids[i]!)! }));
      assert.equal(coalesce(wanted).length, 1);
      const tree = await f.tree([
        f.file('a', [ids[fourth]!, ids[first]!]),
        f.file('b', [ids[first]!]),
      ]);
      await f.flush();
      const target = join(tmp, 'spread');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(
        await readFile(join(target, 'a')),
        Buffer.concat([datas[fourth]!, datas[first]!]),
      );
      assert.deepEqual(await readFile(join(target, 'b')), datas[first]);
      assert.deepEqual(f.warnings, []);
    });

    // From a store without local files, each pack that batches need much of is fetched once.
    if (kind === 'memory')
      void it('fetches each pack once for all the batches that need it', async () => {
        const f = await Fixture.create(kind, tmp);
        const count = MAX_FILES * 3;
        const nodes: Node[] = [];
        for (let i = 0; i < count; i++)
          nodes.push(f.file(`f${i}`, [await f.blob(bytesOf(`many${i}`, 20_000))]));
        const tree = await f.tree([await f.dir('d', nodes)]);
        await f.flush();
        const dataPacks = new Set(nodes.map((n) => f.repo.locate(n.content![0]!)!.packId));
        assert.ok(dataPacks.size >= 3, `${dataPacks.size} data packs`);
        const counting = new CountingStore(f.store);
        const repo = await Repository.open(counting, 'pw');
        await repo.loadIndex();
        counting.reset();
        const target = join(tmp, 'fetched-once');
        const result = await restore(repo, tree, target);
        assert.deepEqual(result.errors, []);
        assert.equal(result.files, count);
        for (const i of [0, MAX_FILES, count - 1])
          assert.deepEqual(await readFile(join(target, 'd', `f${i}`)), bytesOf(`many${i}`, 20_000));
        // Each data pack downloaded about once: whole when a batch needs much of it (then kept
        // for the next batches), a few ranged reads where a batch needs little of one (the
        // shuffled blob order decides), and the two trees. Reading each batch's ranges instead
        // downloads most of every pack once per batch that touches it: about twice as much here.
        let packBytes = 0;
        for await (const p of f.store.list('pack')) packBytes += p.size;
        const read = counting.bytesRead('pack');
        assert.ok(read <= packBytes * 1.25, `${read} bytes read, ${packBytes} in packs`);
        assert.ok(counting.count('get', 'pack') >= dataPacks.size, 'every data pack was read');
      });

    // More packs in flight than the cache keeps (16 MiB packs: 4), as when parts of a large file
    // are read at once: a pack stays held until all its ranges are handed over.
    if (kind === 'memory')
      void it('fetches each pack of a large file once, its parts read at once', async () => {
        const f = await Fixture.create(kind, tmp, 16 * MiB);
        const data: Buffer[] = [];
        const ids: BlobId[] = [];
        for (let i = 0; i < 160; i++) {
          data.push(randomBytes(MiB));
          ids.push(await f.blob(data[i]!));
        }
        const tree = await f.tree([f.file('large', ids)]);
        await f.flush();
        const counting = new CountingStore(f.store);
        const repo = await Repository.open(counting, 'pw');
        await repo.loadIndex();
        counting.reset();
        const target = join(tmp, 'large-once');
        const result = await restore(repo, tree, target, { workers: 2 });
        assert.deepEqual(result.errors, []);
        assert.ok(Buffer.concat(data).equals(await readFile(join(target, 'large'))));
        let packBytes = 0;
        for await (const p of f.store.list('pack')) packBytes += p.size;
        const read = counting.bytesRead('pack');
        assert.ok(read <= packBytes * 1.02, `${read} bytes read, ${packBytes} in packs`);
      });

    // A pack a batch fetched whole serves the short ranges of the batches after it.
    if (kind === 'memory')
      void it("takes a later batch's short range of a pack from the pack kept whole", async () => {
        const f = await Fixture.create(kind, tmp);
        const big = bytesOf('kept-big', 1_500_000);
        const small = bytesOf('kept-small', 10_000);
        const [bigId, smallId] = [await f.blob(big), await f.blob(small)];
        // The first batch: MAX_FILES files of the big blob, a third of the 4 MiB pack.
        const nodes: Node[] = [];
        for (let i = 0; i < MAX_FILES; i++) nodes.push(f.file(`a${i}`, [bigId]));
        // The next batch needs only the small blob, far less than a quarter of its pack.
        nodes.push(f.file('b', [smallId]));
        const tree = await f.tree(nodes);
        await f.flush();
        const pack = f.repo.locate(bigId)!.packId;
        assert.equal(f.repo.locate(smallId)!.packId, pack);
        const counting = new CountingStore(f.store);
        const repo = await Repository.open(counting, 'pw');
        await repo.loadIndex();
        counting.reset();
        const target = join(tmp, 'kept-whole');
        const result = await restore(repo, tree, target);
        assert.deepEqual(result.errors, []);
        assert.deepEqual(await readFile(join(target, `a${MAX_FILES - 1}`)), big);
        assert.deepEqual(await readFile(join(target, 'b')), small);
        assert.equal(counting.gets('pack', pack), 1, 'the data pack is downloaded once');
      });

    void it('restores over an existing tree, replacing what is in the way', async () => {
      const f = await Fixture.create(kind, tmp);
      const content = bytesOf('new', 10_000);
      const b = await f.blob(content);
      const sub = await f.dir('sub', [f.file('inner', [b])]);
      const tree = await f.tree([
        f.file('longer-before', [b]),
        f.file('was-dir', [b]),
        node('link', 'symlink', { linkTarget: Buffer.from('longer-before') }),
        sub,
      ]);
      await f.flush();
      const target = join(tmp, 'existing');
      await mkdir(join(target, 'was-dir', 'deep'), { recursive: true });
      await mkdir(join(target, 'sub'), { recursive: true });
      await writeFile(join(target, 'longer-before'), bytesOf('old', 50_000));
      await writeFile(join(target, 'link'), 'a file where a symlink belongs');
      await writeFile(join(target, 'sub', 'inner'), 'old inner content, longer than nothing');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(await readFile(join(target, 'longer-before')), content);
      assert.deepEqual(await readFile(join(target, 'was-dir')), content);
      assert.deepEqual(await readFile(join(target, 'sub', 'inner')), content);
      assert.equal(await readlink(join(target, 'link')), 'longer-before');
      assert.equal((await lstat(join(target, 'sub'))).mode & 0o777, 0o755);
    });

    void it('links the later paths of a hardlink group to its first, group by device and inode', async () => {
      const f = await Fixture.create(kind, tmp);
      const [a, b] = [bytesOf('group a', 20_000), bytesOf('group b', 30_000)];
      const [ba, bb] = [await f.blob(a), await f.blob(b)];
      // Same inode on two devices: two groups, not one.
      const inA = { links: 3, inode: 100n, deviceId: 1n };
      const inB = { links: 2, inode: 100n, deviceId: 2n };
      const file = (name: string, id: BlobId, group: Partial<Node>) =>
        node(name, 'file', { content: [id], ...group });
      const sub = await f.dir('sub', [
        file('a2', ba, inA),
        file('a3', ba, inA),
        file('b2', bb, inB),
      ]);
      const tree = await f.tree([file('a1', ba, inA), file('b1', bb, inB), sub]);
      await f.flush();
      const target = join(tmp, 'hardlinks');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(result.errors, []);
      assert.equal(result.files, 5);
      const st = async (p: string) => lstat(join(target, p));
      const [a1, b1] = [await st('a1'), await st('b1')];
      assert.equal(a1.nlink, 3);
      assert.equal(b1.nlink, 2);
      assert.notEqual(a1.ino, b1.ino);
      assert.equal((await st('sub/a2')).ino, a1.ino);
      assert.equal((await st('sub/a3')).ino, a1.ino);
      assert.equal((await st('sub/b2')).ino, b1.ino);
      assert.deepEqual(await readFile(join(target, 'sub/a3')), a);
      assert.deepEqual(await readFile(join(target, 'sub/b2')), b);
    });

    void it('keeps the number of open files bounded', async () => {
      const f = await Fixture.create(kind, tmp);
      // Batches in flight: BATCHES_PER_WORKER per worker, one worker per core. Each worker thread
      // also holds a few descriptors of its own (its event loop's epoll and eventfd), and reading
      // a local repository, up to OPEN_PACKS pack files.
      const workers = availableParallelism();
      const bound = workers * BATCHES_PER_WORKER * MAX_FILES + workers * (8 + OPEN_PACKS);
      const count = workers * BATCHES_PER_WORKER * MAX_FILES * 3;
      const nodes: Node[] = [];
      for (let i = 0; i < count; i++)
        nodes.push(f.file(`f${i}`, [await f.blob(bytesOf(`small${i}`, 100 + (i % 50)))]));
      const tree = await f.tree([await f.dir('d', nodes)]);
      await f.flush();
      const before = readdirSync('/proc/self/fd').length;
      let most = 0;
      const result = await restore(f.repo, tree, join(tmp, 'bounded'), {
        onProgress: () => {
          most = Math.max(most, readdirSync('/proc/self/fd').length - before);
        },
      });
      assert.deepEqual(result.errors, []);
      assert.equal(result.files, count);
      assert.ok(most <= bound, `${most} descriptors open at once (bound ${bound})`);
    });

    void it('reports the files whose pack is missing and restores the rest', async () => {
      const f = await Fixture.create(kind, tmp);
      const lost = bytesOf('lost', 3 * MiB);
      const kept = bytesOf('kept', 2 * MiB);
      const bl = await f.blob(lost);
      await f.writer().flush(); // the lost blob gets a pack of its own
      const bk = await f.blob(kept);
      const tree = await f.tree([
        f.file('a-ok', [bk]),
        f.file('b-broken', [bk, bl]),
        f.file('c-ok', [bk, bk]),
      ]);
      await f.flush();
      await f.store.delete('pack', f.repo.locate(bl)!.packId);
      const target = join(tmp, 'missing');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(
        result.errors.map((e) => e.path),
        [join(target, 'b-broken')],
      );
      assert.equal(result.files, 2);
      assert.deepEqual(await readFile(join(target, 'a-ok')), kept);
      assert.deepEqual(await readFile(join(target, 'c-ok')), Buffer.concat([kept, kept]));
      // The partial file keeps what could be restored.
      assert.deepEqual((await readFile(join(target, 'b-broken'))).subarray(0, kept.length), kept);
    });

    void it('reports the files of a blob that does not verify and restores the rest of its range', async () => {
      const f = await Fixture.create(kind, tmp);
      const first = bytesOf('first', 200_000);
      const damaged = bytesOf('damaged', 300_000);
      const last = bytesOf('last', 100_000);
      const [b1, bd, b2] = [await f.blob(first), await f.blob(damaged), await f.blob(last)];
      const tree = await f.tree([
        f.file('a-ok', [b1]),
        f.file('b-broken', [bd]),
        f.file('c-broken-too', [b2, bd, b1]),
        f.file('d-ok', [b2, b1]),
      ]);
      await f.flush();
      // One pack, read in one range: the damage must cost only the blob it hits.
      const wanted = [b1, bd, b2].map((id) => ({ id, loc: f.repo.locate(id)! }));
      assert.equal(new Set(wanted.map((w) => w.loc.packId)).size, 1);
      assert.equal(coalesce(wanted).length, 1);
      await damageBlob(f.repo, f.store, bd);
      const target = join(tmp, 'damaged');
      const result = await restore(f.repo, tree, target);
      const broken = ['b-broken', 'c-broken-too'].map((name) => join(target, name));
      assert.deepEqual(
        result.errors.map((e) => [e.path, e.integrity]).sort(),
        broken.map((path) => [path, true]),
      );
      for (const e of result.errors) assert.match(e.message, new RegExp(bd), e.path);
      assert.equal(result.files, 2);
      assert.equal(result.bytes, first.length + last.length + first.length);
      assert.deepEqual(await readFile(join(target, 'a-ok')), first);
      assert.deepEqual(await readFile(join(target, 'd-ok')), Buffer.concat([last, first]));
      // A damaged file keeps no snapshot time: nothing comparing times and sizes takes it as done.
      for (const path of broken)
        assert.notEqual((await lstat(path, { bigint: true })).mtimeNs, SNAPSHOT_TIME_NS, path);
    });

    void it('reads a blob that does not verify from another pack an index file names', async () => {
      const f = await Fixture.create(kind, tmp);
      const other = bytesOf('other', 200_000);
      const twice = bytesOf('twice', 300_000);
      const [bo, bt] = [await f.blob(other), await f.blob(twice)];
      const tree = await f.tree([f.file('a', [bo, bt]), f.file('b', [bt, bt])]);
      await f.flush();
      const { repo, warnings } = await f.storeAgain(twice);
      const copies = repo.alternatives.get(bt);
      assert.equal(copies.length, 1);
      const damagedPack = await damageBlob(repo, f.store, bt);
      assert.notEqual(copies[0]!.packId, damagedPack);
      const target = join(tmp, 'fallback');
      const result = await restore(repo, tree, target);
      assert.deepEqual(result.errors, []);
      assert.equal(result.files, 2);
      assert.deepEqual(await readFile(join(target, 'a')), Buffer.concat([other, twice]));
      assert.deepEqual(await readFile(join(target, 'b')), Buffer.concat([twice, twice]));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, new RegExp(`pack ${damagedPack}`));
    });

    void it('writes a large compressed blob a piece at a time once it verified, else its other copy', async () => {
      const f = await Fixture.create(kind, tmp, 4 * MiB, 'auto');
      // Compressible and larger than a piece (256 KiB) many times over: written in pieces.
      const line = (i: number) => `line ${i}: what was never restored is a hope, not a backup\n`;
      const large = Buffer.from(Array.from({ length: 60_000 }, (_, i) => line(i)).join(''));
      assert.ok(large.length > 3 * MiB);
      const small = bytesOf('small', 70_000);
      const [bl, bs] = [await f.blob(large), await f.blob(small)];
      const tree = await f.tree([f.file('a', [bl]), f.file('b', [bs, bl, bs, bl])]);
      await f.flush();
      assert.ok(f.repo.locate(bl)!.length < large.length / 4, 'stored compressed');
      const expectB = Buffer.concat([small, large, small, large]);
      const target = join(tmp, 'pieces');
      const result = await restore(f.repo, tree, target);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(await readFile(join(target, 'a')), large);
      assert.deepEqual(await readFile(join(target, 'b')), expectB);
      // Damaged where it is first stored, and stored again elsewhere: the copy is written.
      const { repo, warnings } = await f.storeAgain(large);
      const damagedPack = await damageBlob(repo, f.store, bl);
      const fallback = join(tmp, 'pieces-fallback');
      const second = await restore(repo, tree, fallback);
      assert.deepEqual(second.errors, []);
      assert.deepEqual(await readFile(join(fallback, 'a')), large);
      assert.deepEqual(await readFile(join(fallback, 'b')), expectB);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, new RegExp(`pack ${damagedPack}`));
    });

    // Only a local repository has pack files to cut short.
    if (kind === 'local')
      void it('reports the files of a pack cut short and restores those before the cut', async () => {
        const f = await Fixture.create(kind, tmp);
        const one = bytesOf('one', 400_000);
        const two = bytesOf('two', 400_000);
        const [b1, b2] = [await f.blob(one), await f.blob(two)];
        await f.flush();
        // Which of the two the pack holds first is the writer's business; the test follows it.
        const [l1, l2] = [f.repo.locate(b1)!, f.repo.locate(b2)!];
        assert.equal(l1.packId, l2.packId);
        const [head, bh, bt, lt] = l1.offset < l2.offset ? [one, b1, b2, l2] : [two, b2, b1, l1];
        const tree = await f.tree([f.file('a-head', [bh]), f.file('b-tail', [bt, bh])]);
        await f.flush();
        // As a disk that lost the end of a file: the pack ends in the middle of the tail blob.
        await truncate(f.store.files!.path('pack', lt.packId), lt.offset + 100);
        const target = join(tmp, 'cut-short');
        const result = await restore(f.repo, tree, target);
        assert.deepEqual(
          result.errors.map((e) => [e.path, e.integrity]),
          [[join(target, 'b-tail'), true]],
        );
        assert.match(result.errors[0]!.message, /past the end/);
        assert.equal(result.files, 1);
        assert.deepEqual(await readFile(join(target, 'a-head')), head);
      });

    void it('writes a large file in parts on all workers, then its size and metadata', async () => {
      const f = await Fixture.create(kind, tmp);
      // 1 MiB blobs, one run of them per worker. The sparse file's second half is all zeros, so
      // its part writes nothing and only the size set after the last part makes it whole.
      const blobs = Math.ceil(SPLIT_FROM / MiB) + 4;
      const data: Buffer[] = [];
      const ids: BlobId[] = [];
      for (let i = 0; i < blobs; i++) {
        data.push(i < blobs / 2 ? randomBytes(MiB) : Buffer.alloc(MiB));
        ids.push(await f.blob(data[i]!));
      }
      const content = Buffer.concat(data);
      const times = { mtimeNs: 1_234_567_890_123_456_789n, atimeNs: 1_300_000_000_987_654_321n };
      const meta = { mode: 0o640, ...times };
      const tree = await f.tree([
        node('large', 'file', { content: ids, ...meta }),
        node('sparse', 'file', { content: ids, sparse: true, ...meta }),
        node('reversed', 'file', { content: [...ids].reverse(), ...meta }),
      ]);
      await f.flush();
      for (const verify of [false, true]) {
        const target = join(tmp, `split-${verify}`);
        // A longer file in the way: created again once, not by each part.
        await mkdir(target, { recursive: true });
        await writeFile(join(target, 'large'), Buffer.alloc(content.length + MiB, 1));
        const result = await restore(f.repo, tree, target, { verify, workers: 2 });
        assert.deepEqual(result.errors, []);
        assert.equal(result.files, 3);
        assert.equal(result.bytes, 3 * content.length);
        for (const name of ['large', 'sparse', 'reversed']) {
          const what = `${name}, verify: ${verify}`;
          const st = await lstat(join(target, name), { bigint: true });
          assert.equal(Number(st.mode) & 0o7777, 0o640, what);
          assert.equal(st.mtimeNs, times.mtimeNs, what);
          assert.equal(st.atimeNs, times.atimeNs, what);
          assert.equal(st.size, BigInt(content.length), what);
        }
        assert.ok(content.equals(await readFile(join(target, 'large'))));
        assert.ok(content.equals(await readFile(join(target, 'sparse'))));
        const reversed = Buffer.concat([...data].reverse());
        assert.ok(reversed.equals(await readFile(join(target, 'reversed'))));
      }
    });

    void it('reports a large file once when one of its parts fails', async () => {
      const f = await Fixture.create(kind, tmp);
      const ids: BlobId[] = [];
      const data: Buffer[] = [];
      const count = Math.ceil(SPLIT_FROM / MiB) + 2;
      for (let i = 0; i < count; i++) {
        data.push(randomBytes(MiB));
        ids.push(await f.blob(data[i]!));
      }
      await f.writer().flush(); // the small file's blob in a pack of its own
      const small = await f.blob(bytesOf('small', 1000));
      const tree = await f.tree([f.file('large', ids), f.file('small', [small])]);
      await f.flush();
      // The last blob's pack: in the second part.
      await f.store.delete('pack', f.repo.locate(ids[count - 1]!)!.packId);
      const target = join(tmp, 'split-missing');
      const result = await restore(f.repo, tree, target, { workers: 2 });
      assert.deepEqual(
        result.errors.map((e) => e.path),
        [join(target, 'large')],
      );
      assert.equal(result.files, 1);
      assert.deepEqual(await readFile(join(target, 'small')), bytesOf('small', 1000));
      // The first part landed whole.
      const head = (await readFile(join(target, 'large'))).subarray(0, 4 * MiB);
      assert.ok(head.equals(Buffer.concat(data.slice(0, 4))));
    });

    void it('applies mode and times, in the workers and after --verify', async () => {
      const f = await Fixture.create(kind, tmp);
      const content = bytesOf('meta', 50_000);
      const b = await f.blob(content);
      const times = { mtimeNs: 1_234_567_890_123_456_789n, atimeNs: 1_300_000_000_987_654_321n };
      const tree = await f.tree([
        node('data', 'file', { content: [b], mode: 0o640, ...times }),
        // An empty file is finished as its batch starts, not after a write.
        node('empty', 'file', { content: [], mode: 0o640, ...times }),
      ]);
      await f.flush();
      for (const verify of [false, true]) {
        const target = join(tmp, `meta-${verify}`);
        const result = await restore(f.repo, tree, target, { verify });
        assert.deepEqual(result.errors, []);
        assert.equal(result.files, 2);
        for (const name of ['data', 'empty']) {
          // Before reading the content, which may move the access time.
          const st = await lstat(join(target, name), { bigint: true });
          const what = `${name}, verify: ${verify}`;
          assert.equal(Number(st.mode) & 0o7777, 0o640, what);
          assert.equal(st.mtimeNs, times.mtimeNs, what);
          assert.equal(st.atimeNs, times.atimeNs, what);
        }
        assert.deepEqual(await readFile(join(target, 'data')), content);
      }
    });
  });
