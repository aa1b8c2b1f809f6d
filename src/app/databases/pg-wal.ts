/**
 * The WAL archive: `wal-push` (archive_command) stores one WAL file as one snapshot, path
 * /pg_wal/NAME, tag pg-wal, and returns only after the snapshot — the commit point — is durable;
 * `wal-fetch` (restore_command) writes it back. Pushing a name again is fine when the content is
 * the same (a retry after a crash) and refused when it differs: that is another cluster or a
 * broken one, and overwriting would lose the archive's copy.
 */
import { createHash } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { HoldfastError, type SnapshotId } from '../../core/index.js';
import type { Repository, SnapshotEntry } from '../../engine/index.js';
import { readWalFile, readSystemIdentifier } from '../../sources/index.js';
import { DB_TAGS, metaOf, ofKind } from './db-snapshots.js';
import { readSnapshotFile } from './snapshot-file.js';
import { saveStreamSnapshot } from './stream-snapshot.js';

export const WAL_DIR = '/pg_wal';

export interface WalPushRequest {
  readonly repo: Repository;
  /** %p: the file's path (relative paths are relative to the data directory, our cwd). */
  readonly path: string;
  /** The data directory, for the system identifier of .history/.backup files (default "."). */
  readonly dataDir?: string;
  readonly hostname: string;
  readonly tags?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface WalPushOutcome {
  readonly name: string;
  readonly status: 'archived' | 'already-archived';
  readonly snapshotId: SnapshotId;
  readonly systemIdentifier: string | undefined;
  readonly bytes: number;
}

/** WAL snapshots named `name`, of cluster `systemId` when known. */
export function walEntries(
  entries: readonly SnapshotEntry[],
  name: string,
  systemId: string | undefined,
): SnapshotEntry[] {
  return ofKind(entries, 'pg-wal').filter((e) => {
    const m = metaOf(e);
    return (
      m.wal_name === name &&
      (systemId === undefined ||
        m.system_identifier === undefined ||
        m.system_identifier === systemId)
    );
  });
}

export async function pushWal(req: WalPushRequest): Promise<WalPushOutcome> {
  const { repo, signal } = req;
  const file = await readWalFile(req.path);
  const systemId =
    file.header?.systemIdentifier ?? (await readSystemIdentifier(req.dataDir ?? '.'));
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const existing = walEntries(await repo.listSnapshots(signal), file.name, systemId);
  const same = existing.find((e) => metaOf(e).sha256 === sha256);
  if (same)
    return {
      name: file.name,
      status: 'already-archived',
      snapshotId: same.id,
      systemIdentifier: systemId,
      bytes: file.bytes.length,
    };
  if (existing.length > 0)
    throw new HoldfastError(
      'OBJECT_EXISTS',
      `WAL file ${file.name} is already archived (snapshot ${existing[0]!.id.slice(0, 8)}) with different content; refusing to archive it again`,
      {
        hint:
          'two clusters may be archiving into one repository under the same system identifier, or this ' +
          'cluster was restored without a new timeline; investigate before forgetting the archived copy',
      },
    );
  const meta: Record<string, string> = {
    kind: 'pg-wal',
    wal_name: file.name,
    wal_kind: file.kind,
    sha256,
    ...(systemId !== undefined && { system_identifier: systemId }),
    ...(file.header && {
      timeline: String(file.header.timeline),
      wal_segment_size: String(file.header.segmentSize),
      ...(file.header.pgVersion !== undefined && { pg_version: String(file.header.pgVersion) }),
    }),
  };
  const saved = await saveStreamSnapshot({
    repo,
    files: [{ path: `${WAL_DIR}/${file.name}`, content: () => oneChunk(file.bytes) }],
    hostname: req.hostname,
    tags: [DB_TAGS['pg-wal'], ...(req.tags ?? [])],
    meta: () => meta,
    ...(signal && { signal }),
  });
  return {
    name: file.name,
    status: 'archived',
    snapshotId: saved.id,
    systemIdentifier: systemId,
    bytes: file.bytes.length,
  };
}

// eslint-disable-next-line @typescript-eslint/require-await
async function* oneChunk(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

export interface WalFetchRequest {
  readonly repo: Repository;
  /** %f: the file name wanted. */
  readonly name: string;
  /** %p: where to write it. */
  readonly destination: string;
  /** Cluster to fetch for; default: the data directory's (`dataDir`), else any single one. */
  readonly systemId?: string;
  readonly dataDir?: string;
  readonly signal?: AbortSignal;
}

/**
 * Writes the archived file to `destination` (through a temporary name, so a partial file is never
 * seen) after checking its SHA-256. NOT_FOUND when the archive does not hold it: recovery then
 * ends there.
 */
export async function fetchWal(
  req: WalFetchRequest,
): Promise<{ bytes: number; snapshotId: SnapshotId }> {
  const { repo, signal } = req;
  const systemId = req.systemId ?? (await readSystemIdentifier(req.dataDir ?? '.'));
  const found = walEntries(await repo.listSnapshots(signal), req.name, systemId);
  const clusters = new Set(found.map((e) => metaOf(e).system_identifier));
  if (clusters.size > 1)
    throw new HoldfastError(
      'USAGE',
      `${req.name} is archived for several clusters: ${[...clusters].join(', ')}`,
      {
        hint: 'pass --system-id',
      },
    );
  const entry = found[0];
  if (!entry) throw new HoldfastError('NOT_FOUND', `WAL file ${req.name} is not in the archive`);
  const bytes = await readSnapshotFile(repo, entry, `${WAL_DIR}/${req.name}`, signal);
  const expected = metaOf(entry).sha256;
  if (expected && createHash('sha256').update(bytes).digest('hex') !== expected)
    throw new HoldfastError(
      'INTEGRITY',
      `archived ${req.name} does not match its recorded SHA-256`,
    );
  const tmp = `${req.destination}.holdfast-tmp`;
  try {
    await writeFile(tmp, bytes, { mode: 0o600 });
    await rename(tmp, req.destination);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { bytes: bytes.length, snapshotId: entry.id };
}
