/**
 * Pure reasoning about a WAL archive: which segment a recovery reads for each position on a
 * timeline (PostgreSQL's rule: the newest timeline of the history that began at or before that
 * segment), whether the segments from a base backup to the newest one are all there, and whether
 * the timeline history files agree with each other.
 */
import { segmentName, segmentOf, type TimelineHistoryEntry } from '../../sources/index.js';

export type Histories = ReadonlyMap<number, readonly TimelineHistoryEntry[]>;

export interface TimelineStep {
  readonly timeline: number;
  /** First byte on this timeline. */
  readonly begin: bigint;
  /** First byte no longer on it; undefined for the last step. */
  readonly end?: bigint;
}

/** The steps recovery along `timeline` follows, oldest first; undefined without its history. */
export function timelinePath(timeline: number, histories: Histories): TimelineStep[] | undefined {
  const entries = timeline === 1 ? [] : histories.get(timeline);
  if (!entries) return undefined;
  const steps: TimelineStep[] = [];
  let begin = 0n;
  for (const e of entries) {
    steps.push({ timeline: e.timeline, begin, end: e.switchpoint });
    begin = e.switchpoint;
  }
  steps.push({ timeline, begin });
  return steps;
}

/** The timeline whose file recovery reads for segment `segno`. */
export function timelineOfSegment(
  path: readonly TimelineStep[],
  segno: bigint,
  segmentSize: number,
): number {
  let tli = path[0]!.timeline;
  for (const step of path) if (segmentOf(step.begin, segmentSize) <= segno) tli = step.timeline;
  return tli;
}

/** True when a base backup of `timeline` that became consistent at `stopLsn` can recover along `path`. */
export function baseFitsPath(
  timeline: number,
  stopLsn: bigint,
  path: readonly TimelineStep[],
): boolean {
  const step = path.find((s) => s.timeline === timeline);
  return step !== undefined && (step.end === undefined || stopLsn <= step.end);
}

export interface ArchivedSegment {
  readonly name: string;
  readonly timeline: number;
  readonly segno: bigint;
  /** When it was archived (its snapshot's time). */
  readonly time: string;
}

export interface SegmentGap {
  readonly first: string;
  readonly last: string;
  readonly count: number;
}

export interface Continuity {
  /** The target timeline. */
  readonly timeline: number;
  /** First segment needed from the archive (the one the base backup ended in). */
  readonly from: string;
  /** Newest archived segment on this timeline's path. */
  readonly newest: ArchivedSegment | undefined;
  readonly gaps: readonly SegmentGap[];
  /** The last segment before the first gap: recovery can reach its end. */
  readonly lastContinuous: ArchivedSegment | undefined;
  /** How far recovery can go: the end of `lastContinuous`, or the base backup's end. */
  readonly recoverableLsn: bigint;
}

const MAX_GAPS = 100;

export function walContinuity(args: {
  readonly path: readonly TimelineStep[];
  readonly baseStopLsn: bigint;
  readonly segments: ReadonlyMap<string, ArchivedSegment>;
  readonly segmentSize: number;
}): Continuity {
  const { path, segmentSize } = args;
  const target = path[path.length - 1]!.timeline;
  const start = segmentOf(args.baseStopLsn, segmentSize);
  const nameOf = (segno: bigint): string =>
    segmentName(timelineOfSegment(path, segno, segmentSize), segno, segmentSize);
  let newest: ArchivedSegment | undefined;
  for (const s of args.segments.values())
    if (
      timelineOfSegment(path, s.segno, segmentSize) === s.timeline &&
      (!newest || s.segno > newest.segno)
    )
      newest = s;
  const gaps: SegmentGap[] = [];
  let lastContinuous: ArchivedSegment | undefined;
  let open: { first: bigint; last: bigint } | undefined;
  const close = (): void => {
    if (open && gaps.length < MAX_GAPS)
      gaps.push({
        first: nameOf(open.first),
        last: nameOf(open.last),
        count: Number(open.last - open.first + 1n),
      });
    open = undefined;
  };
  if (newest && newest.segno >= start) {
    for (let segno = start; segno <= newest.segno; segno++) {
      const found = args.segments.get(nameOf(segno));
      if (found) {
        close();
        if (gaps.length === 0) lastContinuous = found;
      } else if (open) open.last = segno;
      else open = { first: segno, last: segno };
    }
    close();
  }
  return {
    timeline: target,
    from: nameOf(start),
    newest: newest && newest.segno >= start ? newest : undefined,
    gaps,
    lastContinuous,
    recoverableLsn: lastContinuous
      ? (lastContinuous.segno + 1n) * BigInt(segmentSize)
      : args.baseStopLsn,
  };
}

/** Disagreements among history files, and timelines that have WAL but no history. */
export function timelineProblems(
  histories: Histories,
  segmentTimelines: ReadonlySet<number>,
): string[] {
  const problems: string[] = [];
  const name = (t: number): string => `${t.toString(16).toUpperCase().padStart(8, '0')}.history`;
  for (const t of [...segmentTimelines].sort((a, b) => a - b))
    if (t > 1 && !histories.has(t))
      problems.push(`timeline ${t} has WAL but ${name(t)} is not in the archive`);
  for (const [t, entries] of [...histories].sort((a, b) => a[0] - b[0])) {
    let previous: TimelineHistoryEntry | undefined;
    for (const e of entries) {
      if (e.timeline >= t || (previous && e.timeline <= previous.timeline))
        problems.push(`${name(t)}: timeline ${e.timeline} out of order`);
      if (previous && e.switchpoint < previous.switchpoint)
        problems.push(`${name(t)}: switch points go backwards at timeline ${e.timeline}`);
      previous = e;
    }
    const parent = entries[entries.length - 1]?.timeline;
    if (parent === undefined) {
      problems.push(`${name(t)} is empty`);
      continue;
    }
    if (parent === 1) continue;
    const parentHistory = histories.get(parent);
    if (!parentHistory) {
      problems.push(
        `${name(t)} branches from timeline ${parent}, but ${name(parent)} is not in the archive`,
      );
      continue;
    }
    const prefix = entries.slice(0, -1);
    const agree =
      prefix.length === parentHistory.length &&
      prefix.every(
        (e, i) =>
          e.timeline === parentHistory[i]!.timeline &&
          e.switchpoint === parentHistory[i]!.switchpoint,
      );
    if (!agree) problems.push(`${name(t)} does not continue ${name(parent)}`);
  }
  return problems;
}
