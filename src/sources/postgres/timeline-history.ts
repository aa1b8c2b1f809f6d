/**
 * Timeline history files (`0000000N.history`): one line per ancestor timeline, "parent TLI, LSN
 * where the child branched off, reason", oldest first. Timeline N's file lists every ancestor of N.
 */
import { HoldfastError } from '../../core/index.js';
import { parseLsn } from './lsn.js';

export interface TimelineHistoryEntry {
  /** An ancestor timeline. */
  readonly timeline: number;
  /** First byte that is no longer on `timeline` (the next timeline begins here). */
  readonly switchpoint: bigint;
  readonly reason: string;
}

export function parseTimelineHistory(
  text: string,
  what = 'timeline history',
): TimelineHistoryEntry[] {
  const entries: TimelineHistoryEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const [tli, lsn, ...reason] = line.split(/\s+/);
    const timeline = Number(tli);
    if (!Number.isInteger(timeline) || timeline < 1 || lsn === undefined)
      throw new HoldfastError('INTEGRITY', `${what}: malformed line "${line}"`);
    entries.push({ timeline, switchpoint: parseLsn(lsn), reason: reason.join(' ') });
  }
  return entries;
}
