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
export async function readIndexFiles(
  store: ObjectStore,
  masterKey: Buffer,
  signal?: AbortSignal,
): Promise<IndexFile[]> {
  return (await readAll(store, decoder(masterKey), new Set(), signal)).files;
}

/**
 * The names of every Index file and, decoded, the files among them not in `known`: what a
 * session that loaded the index needs to see what changed since, without decoding again what
 * it already read. A damaged file is judged against the files read here only (its superseding
 * file may be a known one), so a caller treats INTEGRITY as "look at everything".
 */
export function readIndexFilesExcept(
  store: ObjectStore,
  masterKey: Buffer,
  known: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<ListedIndexFiles<IndexFileContent>> {
  return readAll(store, decoder(masterKey), known, signal);
}

/** Every Index file, checked like readIndexFiles does, each to be decoded when needed. */
export function openIndexFiles(
  store: ObjectStore,
  masterKey: Buffer,
  signal?: AbortSignal,
): Promise<ListedIndexFiles<IndexPlaintext>> {
  return readAll(store, (bytes, what) => openIndexFile(masterKey, bytes, what), new Set(), signal);
}

/** A listing of the Index files and those of them that were read. */
export interface ListedIndexFiles<T> {
  /** Every name listed, damaged files' too. */
  readonly listed: readonly IndexId[];
  readonly files: { readonly id: IndexId; readonly content: T }[];
}

type Opener<T> = (bytes: Buffer, what: string) => T;

function decoder(masterKey: Buffer): Opener<IndexFileContent> {
  return (bytes, what) => decodeIndexFile(masterKey, bytes, what);
}

async function readAll<T extends { readonly supersedes: readonly IndexId[] }>(
  store: ObjectStore,
  open: Opener<T>,
  skip: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<ListedIndexFiles<T>> {
  // A prune may replace index files between our listing and our reads; the replacement is
  // written before the old files are deleted, so listing again always finds a complete view.
  for (let attempt = 1; ; attempt++) {
    try {
      return await readAllOnce(store, open, skip, signal);
    } catch (err) {
      if (!(err instanceof HoldfastError && err.code === 'NOT_FOUND') || attempt >= 5) throw err;
    }
  }
}

async function readAllOnce<T extends { readonly supersedes: readonly IndexId[] }>(
  store: ObjectStore,
  open: Opener<T>,
  skip: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<ListedIndexFiles<T>> {
  const opt = signal ? { signal } : {};
  const listed: IndexId[] = [];
  for await (const info of store.list('index', opt)) listed.push(info.name as IndexId);
  const toRead = listed.filter((name) => !skip.has(name));
  const read = await mapLimit(toRead, READ_CONCURRENCY, async (name) => {
    throwIfAborted(signal);
    const bytes = await store.get('index', name, undefined, opt);
    try {
      if (fileIdOf(bytes) !== name)
        throw new HoldfastError('INTEGRITY', `index ${name}: content does not match its name`);
      return { id: name, content: open(bytes, `index ${name}`) };
    } catch (err) {
      const damage =
        err instanceof HoldfastError &&
        (err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED_FORMAT');
      if (!damage) throw err;
      return { id: name, damage: err };
    }
  });
  // A damaged file that another file supersedes is ignored: on locked storage a forged or
  // damaged index cannot be deleted, and "repair index" can only supersede it.
  const files: { id: IndexId; content: T }[] = [];
  for (const r of read) if (r.content) files.push({ id: r.id, content: r.content });
  const superseded = new Set(files.flatMap((r) => r.content.supersedes));
  for (const r of read) if (r.damage && !superseded.has(r.id)) throw r.damage;
  return { listed, files };
}
