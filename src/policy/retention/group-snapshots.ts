/**
 * Grouping before the policy applies (restic's `--group-by`): snapshots that share the chosen
 * fields form one Group, and each Group is evaluated on its own. Paths and tags compare as sorted
 * sets, as in restic.
 */
import { HoldfastError } from '../../core/index.js';

export type GroupByField = 'host' | 'paths' | 'tags';

export const DEFAULT_GROUP_BY: readonly GroupByField[] = ['host', 'paths'];

/** What groups need of a snapshot. */
export interface GroupableSnapshot {
  readonly hostname: string;
  readonly paths: readonly string[];
  readonly tags?: readonly string[];
}

/** The fields a Group shares; absent when not grouped by them. */
export interface GroupKey {
  readonly hostname?: string;
  readonly paths?: string[];
  readonly tags?: string[];
}

/** Parses "host,paths,tags" (restic also accepts hosts/path/tag); "" means no grouping. */
export function parseGroupBy(text: string): GroupByField[] {
  const fields = new Set<GroupByField>();
  for (const part of text.split(',')) {
    const word = part.trim();
    if (word === 'host' || word === 'hosts') fields.add('host');
    else if (word === 'path' || word === 'paths') fields.add('paths');
    else if (word === 'tag' || word === 'tags') fields.add('tags');
    else if (word !== '')
      throw new HoldfastError('USAGE', `unknown grouping option "${word}"`, {
        hint: 'use a comma-separated list of host, paths and tags, or "" for no grouping',
      });
  }
  return (['host', 'paths', 'tags'] as const).filter((f) => fields.has(f));
}

export function groupKeyOf(s: GroupableSnapshot, by: readonly GroupByField[]): GroupKey {
  return {
    ...(by.includes('host') && { hostname: s.hostname }),
    ...(by.includes('paths') && { paths: [...s.paths].sort() }),
    ...(by.includes('tags') && { tags: [...(s.tags ?? [])].sort() }),
  };
}

/** Splits into Groups, ordered by key (host, then paths, then tags) so output is stable. */
export function groupSnapshots<S extends GroupableSnapshot>(
  list: readonly S[],
  by: readonly GroupByField[],
): { key: GroupKey; snapshots: S[] }[] {
  const groups = new Map<string, { key: GroupKey; snapshots: S[] }>();
  for (const s of list) {
    const key = groupKeyOf(s, by);
    const id = JSON.stringify([key.hostname ?? '', key.paths ?? [], key.tags ?? []]);
    const g = groups.get(id);
    if (g) g.snapshots.push(s);
    else groups.set(id, { key, snapshots: [s] });
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}
