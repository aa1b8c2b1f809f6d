/**
 * FileArchiver: the archiver's step for one regular file. A file unchanged since the parent
 * snapshot (size, mtime, ctime, inode) whose blobs the index still has keeps the parent's
 * content list and is not read; any other is read, chunked and sealed — by the file sealer pool
 * (sealers/: native threads), or on the main thread with `threads: 0` — and its node carries the new content.
 * A file that cannot be read is reported and left out (the snapshot is partial); a vanished one
 * is only a warning. Counts files and bytes for the backup's progress and summary.
 */
import { errnoCode, HoldfastError, Semaphore, type BlobId } from '../../core/index.js';
import type { FsEntry } from '../../sources/index.js';
import type { Node } from '../format/index.js';
import type { BlobWriter, Repository } from '../repository/index.js';
import type { BackupCounters, BackupEvent } from './backup-progress.js';
import { ChunkerPool, saveFile, type SavedFile } from './file-saver.js';
import { nodeFromEntry, unchangedSinceParent } from './node-from-entry.js';
import { finished, type Step } from './walk-step.js';
import { FileSealerPool } from './sealers/file-sealer-pool.js';

export interface FileArchiverOptions {
  readonly repo: Repository;
  readonly writer: BlobWriter;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: BackupEvent) => void;
  /** Files read concurrently on the main thread (only with `threads: 0`). */
  readonly fileConcurrency?: number;
  /** File sealers, native threads (default: the repository's `workerThreads`); 0 reads on the main thread. */
  readonly threads?: number;
}

/** Where the archiver collects the items it leaves out (errors) or warns about. */
export interface ProblemSink {
  error(path: Buffer | string, err: unknown): void;
  warning(path: Buffer | string, err: unknown): void;
}

export class FileArchiver {
  private readonly files: Semaphore;
  private readonly chunkers: ChunkerPool;
  private pool: FileSealerPool | undefined;

  constructor(
    private readonly options: FileArchiverOptions,
    private readonly counters: BackupCounters,
    private readonly problems: ProblemSink,
  ) {
    this.files = new Semaphore(options.fileConcurrency ?? 4);
    this.chunkers = new ChunkerPool(options.repo.chunkerKey, options.repo.chunkerParams);
  }

  /** Starts the sealer pool (unless `threads: 0`); call once before the first `archive`. */
  start(): void {
    const threads = this.options.threads ?? this.options.repo.workerThreads;
    if (threads > 0) this.pool = this.newPool(threads);
  }

  /** Whether files are read by the sealer pool, so the walk may run ahead of the reading. */
  get pooled(): boolean {
    return this.pool !== undefined;
  }

  /** Stops the sealer pool; call once, at the end, whatever happened. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * The file's node, once its content is saved (undefined when it was left out). `walked`
   * waits while the pool's queue is full: the walk goes on when the pool takes more files.
   */
  archive(path: Buffer, entry: FsEntry, parent: Node | undefined): Step<Node | undefined> {
    if (
      unchangedSinceParent(entry, parent) &&
      parent.content.every((id) => this.options.repo.index.has(id))
    ) {
      this.counters.filesUnmodified++;
      this.done(path, Number(entry.size));
      return finished(Promise.resolve(nodeFromEntry(entry, { content: parent.content })));
    }
    const started = (): void =>
      this.options.onEvent?.({ kind: 'file-started', path: path.toString() });
    const saved = (s: SavedFile): Node => this.saved(path, entry, parent, s);
    const failed = (err: unknown): undefined => this.failed(path, err);
    const pool = this.pool;
    if (pool === undefined) {
      // The main-thread path (`threads: 0`).
      const result = this.files.run(async () => {
        started();
        return saveFile(path, entry, {
          writer: this.options.writer,
          chunkers: this.chunkers,
          ...(this.options.signal && { signal: this.options.signal }),
          onBytes: (n) => this.options.onEvent?.({ kind: 'bytes', bytes: n }),
        });
      });
      return finished(result.then(saved, failed));
    }
    const stored = this.storedContent(parent);
    if (pool.hasRoom())
      return finished(pool.save(path, entry, started, stored).then(saved, failed));
    const walked = pool.ready();
    const result = walked.then(() => pool.save(path, entry, started, stored)).then(saved, failed);
    return { walked, result };
  }

  /**
   * The parent's blobs of a changed file that the repository holds, for the sealer to name
   * without sealing them again (FileTask.stored); only for files of several blobs: a
   * one-blob file that changed has a new id anyway.
   */
  private storedContent(parent: Node | undefined): BlobId[] | undefined {
    const content = parent?.type === 'file' ? parent.content : undefined;
    if (content === undefined || content.length < 2) return undefined;
    return content.filter((id) => this.options.repo.index.has(id));
  }

  /** Counts a file as done (also for files a taken-over tree keeps without this step). */
  done(path: Buffer, bytes: number): void {
    this.counters.filesDone++;
    this.counters.bytesDone += bytes;
    this.options.onEvent?.({ kind: 'file-done', path: path.toString(), bytes });
  }

  private newPool(size: number): FileSealerPool {
    const { repo, writer, signal, onEvent } = this.options;
    return new FileSealerPool({
      writer,
      idKey: repo.idKey,
      chunkerKey: repo.chunkerKey,
      chunkerParams: repo.chunkerParams,
      size,
      ...(signal && { signal }),
      ...(onEvent && { onBytes: (bytes: number) => onEvent({ kind: 'bytes', bytes }) }),
    });
  }

  private saved(path: Buffer, entry: FsEntry, parent: Node | undefined, saved: SavedFile): Node {
    if (saved.changedWhileReading)
      this.problems.warning(path, new Error('file changed while it was read'));
    if (parent?.type === 'file') this.counters.filesChanged++;
    else this.counters.filesNew++;
    this.done(path, saved.bytes);
    return nodeFromEntry({ ...entry, size: saved.bytes }, { content: saved.content });
  }

  /** One file's read error leaves it out of the snapshot; anything else fails the backup. */
  private failed(path: Buffer, err: unknown): undefined {
    if (errnoCode(err) === 'ENOENT')
      this.problems.warning(path, new Error('file vanished before it was read'));
    else if (errnoCode(err) !== undefined && !(err instanceof HoldfastError))
      this.problems.error(path, err);
    else throw err;
    return undefined;
  }
}
