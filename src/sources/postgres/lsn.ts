/**
 * Write-ahead log positions and file names as PostgreSQL spells them: an LSN is `HI/LO` (two hex
 * halves of a 64-bit byte position), a segment file is `TTTTTTTTXXXXXXXXYYYYYYYY` (timeline, then
 * the segment number split at 2^32 bytes), and an archive also holds `.history`, `.backup` and
 * `.partial` files (PostgreSQL's xlog_internal.h).
 */
import { HoldfastError } from '../../core/index.js';

export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;

export type WalFileKind = 'segment' | 'partial' | 'history' | 'backup';

const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;
const PARTIAL = /^([0-9A-F]{24})\.partial$/;
const HISTORY = /^([0-9A-F]{8})\.history$/;
const BACKUP = /^([0-9A-F]{24})\.[0-9A-F]{8}\.backup$/;

/** What an archived WAL file name stands for, or undefined for a name PostgreSQL never archives. */
export function walFileKind(name: string): WalFileKind | undefined {
  if (SEGMENT.test(name)) return 'segment';
  if (PARTIAL.test(name)) return 'partial';
  if (HISTORY.test(name)) return 'history';
  if (BACKUP.test(name)) return 'backup';
  return undefined;
}

/** Parses "16/B374D848" (case-insensitive) into a byte position. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new HoldfastError('USAGE', `invalid LSN "${text}"`, { hint: 'use e.g. 0/16B3748' });
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

function segmentsPerId(segmentSize: number): bigint {
  return 0x100000000n / BigInt(segmentSize);
}

/** The segment number holding byte `lsn`. */
export function segmentOf(lsn: bigint, segmentSize: number): bigint {
  return lsn / BigInt(segmentSize);
}

export function segmentName(timeline: number, segno: bigint, segmentSize: number): string {
  const per = segmentsPerId(segmentSize);
  const hex = (n: bigint | number): string => n.toString(16).toUpperCase().padStart(8, '0');
  return hex(timeline) + hex(segno / per) + hex(segno % per);
}

export interface SegmentPosition {
  readonly timeline: number;
  readonly segno: bigint;
}

/** Timeline and segment number of a segment or `.partial` file name; undefined for others. */
export function parseSegmentName(name: string, segmentSize: number): SegmentPosition | undefined {
  const m = SEGMENT.exec(name.replace(/\.partial$/, ''));
  if (!m) return undefined;
  const [, tli, hi, lo] = m;
  return {
    timeline: parseInt(tli!, 16),
    segno: BigInt(`0x${hi}`) * segmentsPerId(segmentSize) + BigInt(`0x${lo}`),
  };
}

export function historyFileName(timeline: number): string {
  return `${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
}

/** Timeline number of a `.history` file name, or undefined. */
export function historyTimeline(name: string): number | undefined {
  const m = HISTORY.exec(name);
  return m ? parseInt(m[1]!, 16) : undefined;
}
