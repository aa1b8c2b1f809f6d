/** Reading one file of a snapshot whole (small files: WAL segments, history files). */
import type { Writable } from 'node:stream';
import { HoldfastError } from '../../core/index.js';
import { findNode, type Repository, type SnapshotEntry } from '../../engine/index.js';

function parts(path: string): Buffer[] {
  return path
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => Buffer.from(p));
}

/** Blob by blob, in order; NOT_FOUND when the path is not a file of the snapshot. */
export async function* snapshotFileContent(
  repo: Repository,
  entry: SnapshotEntry,
  path: string,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  await repo.loadIndex(signal);
  const node = await findNode(repo, entry.snapshot.tree, parts(path), signal);
  if (!node || node.type !== 'file')
    throw new HoldfastError(
      'NOT_FOUND',
      `${path} is not a file in snapshot ${entry.id.slice(0, 8)}`,
    );
  for (const id of node.content ?? []) yield await repo.loadBlob('data', id, signal);
}

export async function readSnapshotFile(
  repo: Repository,
  entry: SnapshotEntry,
  path: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of snapshotFileContent(repo, entry, path, signal)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Writes a snapshot file into `out` (a program's standard input), then ends it. */
export async function pipeSnapshotFile(
  repo: Repository,
  entry: SnapshotEntry,
  path: string,
  out: Writable,
  signal?: AbortSignal,
): Promise<void> {
  try {
    for await (const chunk of snapshotFileContent(repo, entry, path, signal)) {
      if (out.destroyed) return; // the program exited; its exit status tells why
      if (!out.write(chunk))
        await new Promise<void>((resolve) => {
          const done = (): void => {
            out.off('drain', done);
            out.off('close', done);
            resolve();
          };
          out.on('drain', done);
          out.on('close', done);
        });
    }
  } finally {
    out.end();
  }
}
