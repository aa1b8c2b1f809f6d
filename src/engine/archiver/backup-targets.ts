/**
 * The snapshot's root tree mirrors the absolute paths backed up: backing up /srv/www gives
 * root → "srv" → "www". Targets are grouped into a tree of path components; a target inside
 * another target is dropped (the outer one covers it).
 */
import { resolve } from 'node:path';

export interface TargetDir {
  readonly children: Map<string, TargetDir | 'target'>;
}

export function targetTree(paths: readonly string[]): {
  root: TargetDir;
  whole: boolean;
  targets: string[];
} {
  const targets = [...new Set(paths.map((p) => resolve(p)))].sort();
  const kept = targets.filter(
    (t) => !targets.some((o) => o !== t && (o === '/' || t.startsWith(o + '/'))),
  );
  const root: TargetDir = { children: new Map() };
  if (kept.includes('/')) return { root, whole: true, targets: ['/'] };
  for (const t of kept) {
    const parts = t.split('/').filter((p) => p.length > 0);
    let dir = root;
    parts.forEach((name, i) => {
      if (i === parts.length - 1) {
        dir.children.set(name, 'target');
        return;
      }
      let next = dir.children.get(name);
      if (next === undefined || next === 'target') {
        next = { children: new Map() };
        dir.children.set(name, next);
      }
      dir = next;
    });
  }
  return { root, whole: false, targets: kept };
}
