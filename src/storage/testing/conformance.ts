/**
 * The ObjectStore conformance suite: the contract of object-store.ts as executable checks. Every
 * backend runs it from its own test file:
 *
 *   describeObjectStoreConformance('LocalStore', async () => ({ store, cleanup }));
 *
 * Each test gets a fresh store from `makeStore`, calls `create()`, and closes and cleans up after.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MiB, isHoldfastError, type ErrorCode } from '../../core/index.js';
import {
  OBJECT_KINDS,
  type ObjectInfo,
  type ObjectKind,
  type ObjectStore,
} from '../object-store.js';
import { describeFileBodies } from './conformance-file-body.js';
import { seededBytes } from './seeded-random.js';
import { testObject } from './test-object.js';

export interface StoreFixture {
  readonly store: ObjectStore;
  cleanup(): Promise<void>;
  /** The store receives objects as streams and writes them into GetOptions `into` that fits. */
  readonly writesInto?: boolean;
}

export { testObject, type TestObject } from './test-object.js';

export async function collect(objects: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  for await (const info of objects) found.push(info);
  return found;
}

/** Asserts that `promise` rejects with a HoldfastError of `code`, and returns that error. */
export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(isHoldfastError(caught, code), `expected ${code}, got ${String(caught)}`);
  return caught;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** Kinds other than config: their objects are named by ids. */
export const ID_KINDS: readonly ObjectKind[] = OBJECT_KINDS.filter((k) => k !== 'config');

const byName = (infos: ObjectInfo[]) => [...infos].sort((a, b) => a.name.localeCompare(b.name));

export function describeObjectStoreConformance(
  name: string,
  makeStore: () => Promise<StoreFixture>,
): void {
  const withStore =
    (test: (store: ObjectStore, fixture: StoreFixture) => Promise<void>) => async () => {
      const fixture = await makeStore();
      try {
        await fixture.store.create();
        await test(fixture.store, fixture);
      } finally {
        await fixture.store.close();
        await fixture.cleanup();
      }
    };

  void describe(`ObjectStore conformance: ${name}`, () => {
    void it(
      'create is idempotent and keeps existing objects',
      withStore(async (store) => {
        const obj = testObject(1);
        await store.put('snapshot', obj.name, obj.data);
        await store.create();
        assert.deepEqual(await store.get('snapshot', obj.name), obj.data);
      }),
    );

    void it(
      'round-trips small, empty and 20 MiB objects',
      withStore(async (store) => {
        for (const [seed, size] of [
          [2, 1],
          [3, 0],
          [4, 1000],
          [5, 20 * MiB + 3],
        ] as const) {
          const obj = testObject(seed, size);
          await store.put('pack', obj.name, obj.data);
          const back = await store.get('pack', obj.name);
          assert.equal(back.length, size);
          assert.ok(back.equals(obj.data), `content of a ${size}-byte object`);
          assert.deepEqual(await store.stat('pack', obj.name), { name: obj.name, size });
        }
      }),
    );

    void it(
      'gives the bytes asked for with memory offered for them, at its start or in memory of its own',
      withStore(async (store, fixture) => {
        const obj = testObject(63, 3 * MiB + 17);
        await store.put('pack', obj.name, obj.data);
        const memory = new SharedArrayBuffer(4 * MiB);
        const offered = new Uint8Array(memory, 5, 4 * MiB - 5);
        const whole = await store.get('pack', obj.name, undefined, { into: offered });
        assert.ok(whole.equals(obj.data), 'the whole object');
        const inOffered = whole.buffer === memory;
        if (inOffered) assert.equal(whole.byteOffset, 5, 'at the start of the memory offered');
        if (fixture.writesInto) assert.ok(inOffered, 'a streaming store writes into it');
        const range = { offset: 1000, length: 2 * MiB };
        const part = await store.get('pack', obj.name, range, { into: offered });
        assert.ok(part.equals(obj.data.subarray(1000, 1000 + 2 * MiB)), 'a range');
        if (fixture.writesInto) assert.equal(part.buffer, memory);
        // Too small: memory of the store's own, and nothing written past what was offered.
        const small = new SharedArrayBuffer(MiB + 2);
        new Uint8Array(small).fill(0xa5);
        const tooSmall = new Uint8Array(small, 1, MiB);
        const own = await store.get('pack', obj.name, undefined, { into: tooSmall });
        assert.ok(own.equals(obj.data), 'the whole object without room for it');
        assert.notEqual(own.buffer, small);
        const view = new Uint8Array(small);
        assert.deepEqual([view[0], view[MiB + 1]], [0xa5, 0xa5]);
      }),
    );

    void it(
      'writes a whole object to a sink piece by piece when it streams, else gives its bytes',
      withStore(async (store, fixture) => {
        const obj = testObject(64, 3 * MiB + 17);
        await store.put('pack', obj.name, obj.data);
        const received = Buffer.alloc(obj.data.length);
        let pieces = 0;
        let end = 0;
        const sink = {
          write: async (chunk: Uint8Array, offset: number): Promise<void> => {
            // The piece is the store's until the write settles: copied before yielding.
            received.set(chunk, offset);
            pieces++;
            end = Math.max(end, offset + chunk.length);
            await new Promise((resolve) => setImmediate(resolve));
          },
        };
        const whole = await store.get('pack', obj.name, undefined, { sink });
        if (whole.length === 0) {
          assert.equal(end, obj.data.length, 'every byte reached the sink');
          assert.ok(received.equals(obj.data), 'in its place');
        } else {
          assert.ok(whole.equals(obj.data), 'or came back as bytes');
          assert.equal(pieces, 0, 'and none went to the sink');
        }
        if (fixture.writesInto) assert.equal(whole.length, 0, 'a streaming store writes to it');
        // A range is never written to the sink.
        const before = pieces;
        const range = { offset: 1000, length: 70_000 };
        const part = await store.get('pack', obj.name, range, { sink });
        assert.ok(part.equals(obj.data.subarray(1000, 71_000)), 'a range comes back as bytes');
        assert.equal(pieces, before);
      }),
    );

    void it(
      'stores parts as the object they make up, back to back',
      withStore(async (store) => {
        // More parts than one vectored write takes (1,024), empty ones, views at odd offsets.
        const whole = seededBytes(61, 6 * MiB + 5);
        const parts: Buffer[] = [];
        for (let at = 0, i = 0; at < whole.length; i++) {
          const n = i % 7 === 3 ? 0 : i === 100 ? 2 * MiB : (i * 2_654_435_761) % 5000;
          const view = Buffer.alloc(n + 3);
          whole.copy(view, 1, at, at + n);
          parts.push(view.subarray(1, 1 + Math.min(n, whole.length - at)));
          at += n;
        }
        assert.ok(parts.length > 1024, `${parts.length} parts`);
        const name = createHash('sha256').update(whole).digest('hex');
        await store.put('pack', name, parts);
        for (const part of parts) part.fill(0);
        const back = await store.get('pack', name);
        assert.ok(back.equals(whole), 'the parts back to back');
        assert.deepEqual(await store.stat('pack', name), { name, size: whole.length });
        const empty = testObject(62, 0);
        await store.put('pack', empty.name, [Buffer.alloc(0), Buffer.alloc(0)]);
        assert.equal((await store.get('pack', empty.name)).length, 0);
      }),
    );

    describeFileBodies(withStore);

    void it(
      'keeps its own copy of the bytes',
      withStore(async (store) => {
        const obj = testObject(6);
        const input = Buffer.from(obj.data);
        await store.put('index', obj.name, input);
        input.fill(0);
        const first = await store.get('index', obj.name);
        first.fill(0);
        assert.ok((await store.get('index', obj.name)).equals(obj.data));
      }),
    );

    void it(
      'reads byte ranges at the start, middle and end',
      withStore(async (store) => {
        const obj = testObject(7, 4096);
        await store.put('pack', obj.name, obj.data);
        const ranges = [
          [0, 10],
          [1000, 2000],
          [4000, 96],
          [0, 4096],
          [4096, 0],
          [17, 0],
        ] as const;
        for (const [offset, length] of ranges) {
          const part = await store.get('pack', obj.name, { offset, length });
          assert.ok(part.equals(obj.data.subarray(offset, offset + length)), `${offset}+${length}`);
        }
      }),
    );

    void it(
      'rejects ranges past the end with INTEGRITY',
      withStore(async (store) => {
        const obj = testObject(8, 100);
        await store.put('pack', obj.name, obj.data);
        for (const [offset, length] of [
          [90, 11],
          [100, 1],
          [101, 0],
          [5000, 10],
        ] as const) {
          await rejectsWithCode(store.get('pack', obj.name, { offset, length }), 'INTEGRITY');
        }
      }),
    );

    void it(
      'rejects malformed ranges',
      withStore(async (store) => {
        const obj = testObject(9, 100);
        await store.put('pack', obj.name, obj.data);
        for (const [offset, length] of [
          [-1, 10],
          [0, -1],
          [0.5, 1],
          [Number.NaN, 1],
        ] as const) {
          await rejectsWithCode(store.get('pack', obj.name, { offset, length }), 'FAILURE');
        }
      }),
    );

    void it(
      'is write-once: a second put rejects with OBJECT_EXISTS',
      withStore(async (store) => {
        const obj = testObject(10);
        await store.put('pack', obj.name, obj.data);
        const err = await rejectsWithCode(
          store.put('pack', obj.name, testObject(11).data),
          'OBJECT_EXISTS',
        );
        assert.match(err.message, new RegExp(obj.name));
        await rejectsWithCode(store.put('pack', obj.name, obj.data), 'OBJECT_EXISTS');
        assert.ok((await store.get('pack', obj.name)).equals(obj.data));
        assert.equal((await collect(store.list('pack'))).length, 1);
      }),
    );

    void it(
      'lets exactly one of many concurrent puts of a name win, intact',
      withStore(async (store) => {
        const name = testObject(12).name;
        const contents = Array.from({ length: 12 }, (_, i) => seededBytes(100 + i, 256 * 1024));
        const results = await Promise.allSettled(
          contents.map((data) => store.put('pack', name, data)),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, 'exactly one put succeeds');
        for (const r of results) {
          if (r.status === 'rejected')
            assert.ok(isHoldfastError(r.reason, 'OBJECT_EXISTS'), String(r.reason));
        }
        assert.ok(
          (await store.get('pack', name)).equals(contents[winners[0] ?? -1] ?? Buffer.alloc(0)),
        );
        assert.deepEqual(await collect(store.list('pack')), [{ name, size: 256 * 1024 }]);
      }),
    );

    void it(
      'reports missing objects: get NOT_FOUND naming it, stat undefined',
      withStore(async (store) => {
        const { name: missing } = testObject(13);
        for (const kind of OBJECT_KINDS) {
          const objectName = kind === 'config' ? 'config' : missing;
          const err = await rejectsWithCode(store.get(kind, objectName), 'NOT_FOUND');
          assert.match(
            err.message,
            new RegExp(kind === 'config' ? 'config' : `${kind} ${missing}`),
          );
          await rejectsWithCode(store.get(kind, objectName, { offset: 0, length: 1 }), 'NOT_FOUND');
          assert.equal(await store.stat(kind, objectName), undefined);
        }
      }),
    );

    void it(
      'keeps kinds apart: one name in every kind is a separate object',
      withStore(async (store) => {
        const { name } = testObject(14);
        for (const [i, kind] of ID_KINDS.entries()) {
          await store.put(kind, name, seededBytes(i, 10 + i));
        }
        for (const [i, kind] of ID_KINDS.entries()) {
          assert.ok((await store.get(kind, name)).equals(seededBytes(i, 10 + i)), kind);
          assert.deepEqual(await collect(store.list(kind)), [{ name, size: 10 + i }], kind);
        }
        assert.deepEqual(await collect(store.list('config')), []);
      }),
    );

    void it(
      'lists 1500 objects, each once with its size',
      withStore(async (store) => {
        const objects = Array.from({ length: 1500 }, (_, i) => testObject(1000 + i, 32 + (i % 50)));
        await inParallel(objects, 32, (o) => store.put('pack', o.name, o.data));
        await store.put('index', testObject(5).name, Buffer.alloc(3));
        const listed = byName(await collect(store.list('pack')));
        const expected = byName(objects.map((o) => ({ name: o.name, size: o.data.length })));
        assert.deepEqual(listed, expected);
      }),
    );

    void it(
      'lists nothing for an empty kind',
      withStore(async (store) => {
        for (const kind of OBJECT_KINDS)
          assert.deepEqual(await collect(store.list(kind)), [], kind);
      }),
    );

    void it(
      'deletes idempotently; a deleted name can be put again',
      withStore(async (store) => {
        const obj = testObject(15);
        await store.put('lock', obj.name, obj.data);
        await store.delete('lock', obj.name);
        await rejectsWithCode(store.get('lock', obj.name), 'NOT_FOUND');
        assert.equal(await store.stat('lock', obj.name), undefined);
        assert.deepEqual(await collect(store.list('lock')), []);
        await store.delete('lock', obj.name);
        await store.delete('pack', testObject(16).name);
        await store.put('lock', obj.name, obj.data);
        assert.ok((await store.get('lock', obj.name)).equals(obj.data));
      }),
    );

    void it(
      'stores the config object under its fixed name',
      withStore(async (store) => {
        const data = seededBytes(17, 300);
        await store.put('config', 'config', data);
        assert.ok((await store.get('config', 'config')).equals(data));
        assert.deepEqual(await store.stat('config', 'config'), { name: 'config', size: 300 });
        assert.deepEqual(await collect(store.list('config')), [{ name: 'config', size: 300 }]);
        await rejectsWithCode(store.put('config', 'config', Buffer.alloc(1)), 'OBJECT_EXISTS');
        await rejectsWithCode(store.put('config', testObject(18).name, data), 'FAILURE');
      }),
    );

    void it(
      'spreads packs over every name prefix 00..ff',
      withStore(async (store) => {
        const tail = testObject(19).name.slice(2);
        const names = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0') + tail);
        await inParallel(names, 32, (n) => store.put('pack', n, Buffer.from(n)));
        const listed = (await collect(store.list('pack'))).map((i) => i.name).sort();
        assert.deepEqual(listed, names);
        for (const n of ['00', '7f', 'a0', 'ff']) {
          assert.equal((await store.get('pack', n + tail)).toString(), n + tail);
        }
      }),
    );

    void it(
      'rejects invalid names without storing anything',
      withStore(async (store) => {
        const hex = testObject(20).name;
        const bad = [
          '',
          '../config',
          `../${hex.slice(3)}`,
          hex.toUpperCase(),
          hex.slice(1),
          `${hex}0`,
          `${hex}.tmp`,
          'config',
        ];
        for (const n of bad) {
          await rejectsWithCode(store.put('pack', n, Buffer.alloc(1)), 'FAILURE');
          await rejectsWithCode(store.get('pack', n), 'FAILURE');
          await rejectsWithCode(store.stat('pack', n), 'FAILURE');
          await rejectsWithCode(store.delete('pack', n), 'FAILURE');
        }
        for (const kind of OBJECT_KINDS)
          assert.deepEqual(await collect(store.list(kind)), [], kind);
      }),
    );

    void it(
      'rejects calls with an aborted signal with INTERRUPTED',
      withStore(async (store) => {
        const obj = testObject(21);
        await store.put('pack', obj.name, obj.data);
        const signal = AbortSignal.abort();
        const other = testObject(22);
        await rejectsWithCode(store.create({ signal }), 'INTERRUPTED');
        await rejectsWithCode(store.put('pack', other.name, other.data, { signal }), 'INTERRUPTED');
        await rejectsWithCode(store.get('pack', obj.name, undefined, { signal }), 'INTERRUPTED');
        await rejectsWithCode(store.stat('pack', obj.name, { signal }), 'INTERRUPTED');
        await rejectsWithCode(collect(store.list('pack', { signal })), 'INTERRUPTED');
        await rejectsWithCode(store.delete('pack', obj.name, { signal }), 'INTERRUPTED');
        assert.deepEqual(await collect(store.list('pack')), [
          { name: obj.name, size: obj.data.length },
        ]);
      }),
    );

    void it(
      'an abort during a put rejects with INTERRUPTED and stores nothing',
      withStore(async (store) => {
        const obj = testObject(23, 8 * MiB);
        const controller = new AbortController();
        const put = store.put('pack', obj.name, obj.data, { signal: controller.signal });
        controller.abort();
        await rejectsWithCode(put, 'INTERRUPTED');
        assert.equal(await store.stat('pack', obj.name), undefined);
        await store.put('pack', obj.name, obj.data);
      }),
    );

    void it(
      'rejects use after close',
      withStore(async (store) => {
        await store.close();
        await assert.rejects(store.stat('pack', testObject(24).name));
      }),
    );
  });
}
