/**
 * Reading every Index file of a repository (repository-format.md, "Index files"): listed, each
 * checked against its SHA-256 name and decoded. A damaged file fails the read unless another
 * file supersedes it.
 */
import { HoldfastError, mapLimit, throwIfAborted, type IndexId } from '../../core/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { fileIdOf } from '../crypto/index.js';
import {
  decodeIndexFile,
  openIndexFile,
  type IndexFileContent,
  type IndexPlaintext,
} from '../format/index.js';

export interface IndexFile {
  readonly id: IndexId;
  readonly content: IndexFileContent;
}

/** An Index file checked but not decoded yet (see IndexPlaintext). */
export interface OpenedIndexFile {
  readonly id: IndexId;
  readonly content: IndexPlaintext;
}

/** Index files read at once: metadata-sized objects, many per repository. */
const READ_CONCURRENCY = 8;

/** Every Index file, decoded. Damaged ones throw INTEGRITY naming the file. */
export function readIndexFiles(
  store: ObjectStore,
  masterKey: Buffer,
  signal?: AbortSignal,
): Promise<IndexFile[]> {
  return readAll(store, (bytes, what) => decodeIndexFile(masterKey, bytes, what), signal);
}

/** Every Index file, checked like readIndexFiles does, each to be decoded when needed. */
export function openIndexFiles(
  store: ObjectStore,
  masterKey: Buffer,
  signal?: AbortSignal,
): Promise<OpenedIndexFile[]> {
  return readAll(store, (bytes, what) => openIndexFile(masterKey, bytes, what), signal);
}

type Opener<T> = (bytes: Buffer, what: string) => T;

async function readAll<T extends { readonly supersedes: readonly IndexId[] }>(
  store: ObjectStore,
  open: Opener<T>,
  signal?: AbortSignal,
): Promise<{ id: IndexId; content: T }[]> {
  // A prune may replace index files between our listing and our reads; the replacement is
  // written before the old files are deleted, so listing again always finds a complete view.
  for (let attempt = 1; ; attempt++) {
    try {
      return await readAllOnce(store, open, signal);
    } catch (err) {
      if (!(err instanceof HoldfastError && err.code === 'NOT_FOUND') || attempt >= 5) throw err;
    }
  }
}

async function readAllOnce<T extends { readonly supersedes: readonly IndexId[] }>(
  store: ObjectStore,
  open: Opener<T>,
  signal?: AbortSignal,
): Promise<{ id: IndexId; content: T }[]> {
  const opt = signal ? { signal } : {};
  const names: string[] = [];
  for await (const info of store.list('index', opt)) names.push(info.name);
  const read = await mapLimit(names, READ_CONCURRENCY, async (name) => {
    throwIfAborted(signal);
    const bytes = await store.get('index', name, undefined, opt);
    try {
      if (fileIdOf(bytes) !== name)
        throw new HoldfastError('INTEGRITY', `index ${name}: content does not match its name`);
      return { id: name as IndexId, content: open(bytes, `index ${name}`) };
    } catch (err) {
      const damage =
        err instanceof HoldfastError &&
        (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT');
      if (!damage) throw err;
      return { id: name as IndexId, damage: err };
    }
  });
  // A damaged file that another file supersedes is ignored: on locked storage a forged or
  // damaged index cannot be deleted, and "repair index" can only supersede it.
  const good: { id: IndexId; content: T }[] = [];
  for (const r of read) if (r.content) good.push({ id: r.id, content: r.content });
  const superseded = new Set(good.flatMap((r) => r.content.supersedes));
  for (const r of read) if (r.damage && !superseded.has(r.id)) throw r.damage;
  return good;
}
