/**
 * Checker: verifies a repository. Structure: every index file opens, every indexed pack exists,
 * every snapshot opens and every tree and blob it references is resolvable. With `readData`, it
 * downloads packs (all, or a subset), checks each pack's hash against its name, its header
 * against the index, and decrypts and re-hashes every blob. Every damaged object is named, and
 * so are the snapshots and files it affects.
 */
import {
  describeError,
  HoldfastError,
  mapLimit,
  throwIfAborted,
  type BlobId,
  type PackId,
  type SnapshotId,
} from '../../core/index.js';
import { fileIdOf } from '../crypto/index.js';
import {
  decodeIndexFile,
  decodePackHeader,
  type IndexFileContent,
  type PackEntry,
} from '../format/index.js';
import type { Repository } from '../repository/index.js';
import { findAffected } from './affected.js';
import { walkSnapshots } from './tree-visitor.js';

export interface CheckOptions {
  readonly repo: Repository;
  readonly readData?: boolean;
  /** Fraction (0,1] of packs to read with readData; packs are chosen at random. */
  readonly readDataSubset?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

export interface CheckProblem {
  readonly object: string;
  readonly message: string;
}

export interface CheckResult {
  readonly errors: CheckProblem[];
  readonly warnings: CheckProblem[];
  /** "snapshot <id>: <path>" for every snapshot file or directory touched by damage. */
  readonly affected: string[];
  readonly packsRead: number;
  readonly blobsChecked: number;
  readonly snapshots: number;
}

export async function checkRepository(options: CheckOptions): Promise<CheckResult> {
  const { repo, signal } = options;
  const errors: CheckProblem[] = [];
  const warnings: CheckProblem[] = [];
  const damaged = new Set<string>();
  const indexed = new Map<PackId, PackEntry[]>();

  // 1. Index files, each on its own so one damaged file does not hide the others. Files that a
  // later file supersedes are ignored, as every reader ignores them.
  const indexNames: string[] = [];
  for await (const info of repo.store.list('index', signal ? { signal } : {}))
    indexNames.push(info.name);
  const decoded: { name: string; content: IndexFileContent }[] = [];
  const unreadable: CheckProblem[] = [];
  await mapLimit(indexNames, 8, async (name) => {
    try {
      const bytes = await repo.store.get('index', name);
      if (fileIdOf(bytes) !== name) throw new Error('content does not match its name');
      decoded.push({
        name,
        content: decodeIndexFile(repo.masterKeyForCheck(), bytes, `index ${name}`),
      });
    } catch (err) {
      if (err instanceof HoldfastError && err.code === 'NOT_FOUND') return; // replaced by a prune meanwhile
      unreadable.push({ object: `index ${name}`, message: describeError(err) });
    }
  });
  const superseded = new Set<string>(decoded.flatMap((d) => d.content.supersedes));
  // A damaged file that another supersedes is ignored by every reader: only a warning (on
  // object-locked storage it cannot be deleted before its retention ends).
  for (const u of unreadable) {
    if (superseded.has(u.object.slice('index '.length)))
      warnings.push({ ...u, message: `${u.message} (superseded, ignored)` });
    else errors.push(u);
  }
  const pendingDeletion = new Set<string>();
  for (const { name, content } of decoded) {
    if (superseded.has(name)) continue;
    for (const p of content.packs)
      indexed.set(p.packId, [...(indexed.get(p.packId) ?? []), ...p.entries]);
    for (const d of content.deletions ?? []) for (const p of d.packs) pendingDeletion.add(p);
  }
  await repo.loadIndex(signal).catch(() => undefined);
  options.onProgress?.({ phase: 'index', done: indexNames.length, total: indexNames.length });

  // 2. Packs: indexed ones must exist; unindexed ones are only wasted space.
  const stored = new Map<string, number>();
  for await (const info of repo.store.list('pack', signal ? { signal } : {}))
    stored.set(info.name, info.size);
  for (const packId of indexed.keys()) {
    if (!stored.has(packId)) {
      errors.push({
        object: `pack ${packId}`,
        message: 'listed in the index but missing from storage',
      });
      for (const e of indexed.get(packId)!) damaged.add(e.id);
    }
  }
  for (const name of stored.keys()) {
    if (indexed.has(name as PackId) || pendingDeletion.has(name)) continue;
    warnings.push({
      object: `pack ${name}`,
      message: 'not referenced by any index (run "holdfast repair index" to index it)',
    });
  }

  // 3. Snapshots and the trees and blobs they reference.
  const snapshotNames: SnapshotId[] = [];
  for await (const info of repo.store.list('snapshot', signal ? { signal } : {}))
    snapshotNames.push(info.name as SnapshotId);
  const snapshots: { id: SnapshotId; tree: BlobId }[] = [];
  for (const id of snapshotNames) {
    try {
      snapshots.push({ id, tree: (await repo.loadSnapshot(id, signal)).tree });
    } catch (err) {
      errors.push({ object: `snapshot ${id}`, message: describeError(err) });
    }
  }
  await walkSnapshots(repo, snapshots, {
    ...(signal && { signal }),
    onTreeError: (tree, err) => {
      damaged.add(tree);
      errors.push({ object: `tree ${tree}`, message: describeError(err) });
    },
    onMissingBlob: (blob) => {
      if (damaged.has(blob)) return;
      damaged.add(blob);
      errors.push({
        object: `blob ${blob}`,
        message: 'referenced by a snapshot but not in any index',
      });
    },
  });

  // 4. Read data: hash every pack, compare header to index, decrypt and verify every blob.
  let packsRead = 0;
  let blobsChecked = 0;
  if (options.readData) {
    let packs = [...indexed.keys()].filter((p) => stored.has(p));
    if (options.readDataSubset !== undefined && options.readDataSubset < 1) {
      packs = packs.filter(() => Math.random() < options.readDataSubset!);
    }
    await mapLimit(packs, 2, async (packId) => {
      throwIfAborted(signal);
      const entries = indexed.get(packId)!;
      try {
        const bytes = await repo.store.get('pack', packId, undefined, signal ? { signal } : {});
        if (fileIdOf(bytes) !== packId)
          errors.push({
            object: `pack ${packId}`,
            message: 'content does not match its name (damaged)',
          });
        let header: PackEntry[] = [];
        try {
          header = decodePackHeader(
            repo.masterKeyForCheck(),
            bytes,
            bytes.length,
            `pack ${packId}`,
          );
        } catch (err) {
          errors.push({ object: `pack ${packId}`, message: describeError(err) });
        }
        const headerIds = new Set(header.map((h) => `${h.id}:${h.offset}`));
        for (const e of entries) {
          if (header.length > 0 && !headerIds.has(`${e.id}:${e.offset}`))
            errors.push({
              object: `pack ${packId}`,
              message: `index lists blob ${e.id} the pack header does not`,
            });
          try {
            repo.decodeBlob(
              e.type,
              e.id,
              bytes.subarray(e.offset, e.offset + e.length),
              e.compression,
              e.rawLength,
              `pack ${packId}`,
            );
          } catch (err) {
            damaged.add(e.id);
            errors.push({ object: `blob ${e.id}`, message: describeError(err) });
          }
          blobsChecked++;
        }
      } catch (err) {
        errors.push({ object: `pack ${packId}`, message: `unreadable: ${describeError(err)}` });
        for (const e of entries) damaged.add(e.id);
      }
      packsRead++;
      options.onProgress?.({ phase: 'read-data', done: packsRead, total: packs.length });
    });
  }

  const affected = damaged.size > 0 ? await findAffected(repo, snapshots, damaged, signal) : [];
  return { errors, warnings, affected, packsRead, blobsChecked, snapshots: snapshotNames.length };
}
