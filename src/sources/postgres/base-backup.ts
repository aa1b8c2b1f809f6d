/**
 * pg_basebackup as a stream: a tar of the data directory on standard output (`-Ft -D -`), with
 * the WAL needed for consistency inside it (`-X fetch`; `-X stream` cannot write to stdout).
 * The facts recorded with the snapshot come from the stream itself (backup_label, PG_VERSION,
 * pg_control, the first WAL segment's header, backup_manifest) and from pg_basebackup's -v output.
 */
import { HoldfastError } from '../../core/index.js';
import { readWalSegmentHeader, systemIdentifierFromControl } from './control-data.js';
import { connectionArgs, pgProgram, type PgConnection } from './libpq.js';
import { DEFAULT_WAL_SEGMENT_SIZE, parseLsn, segmentName, segmentOf, walFileKind } from './lsn.js';
import { TarInspector } from './tar-inspector.js';

export type CheckpointMode = 'fast' | 'spread';

export function baseBackupArgv(
  c: PgConnection,
  options: { bindir?: string; checkpoint: CheckpointMode; label: string },
): string[] {
  return [
    pgProgram('pg_basebackup', options.bindir),
    ...connectionArgs(c),
    ...(c.dbname !== undefined ? ['-d', c.dbname] : []),
    '-Ft',
    '-X',
    'fetch',
    '-D',
    '-',
    '-v',
    '--checkpoint',
    options.checkpoint,
    '-l',
    options.label,
  ];
}

export function baseBackupInspector(): TarInspector {
  return new TarInspector({
    keep: ['backup_label', 'PG_VERSION', 'global/pg_control', 'backup_manifest'],
    prefixOf: {
      match: (name) => name.startsWith('pg_wal/') && walFileKind(name.slice(7)) === 'segment',
      bytes: 64,
    },
    maxSize: 64 * 1024 * 1024,
  });
}

export interface BaseBackupFacts {
  readonly systemIdentifier: string;
  readonly pgVersion: string;
  readonly timeline: number;
  readonly startLsn: bigint;
  readonly stopLsn: bigint;
  readonly segmentSize: number;
  readonly startWal: string;
  readonly stopWal: string;
  readonly label: string;
  readonly startTime: string;
}

function labelField(label: string, field: string): string | undefined {
  const m = new RegExp(`^${field}: (.*)$`, 'm').exec(label);
  return m?.[1]?.trim();
}

/** What the backup is, from what the inspector saw and pg_basebackup's standard error. */
export function baseBackupFacts(inspector: TarInspector, stderr: string): BaseBackupFacts {
  const missing = (what: string): HoldfastError =>
    new HoldfastError(
      'SOURCE_UNAVAILABLE',
      `pg_basebackup output has no ${what}; no snapshot was written`,
      {
        hint: 'is this PostgreSQL 15 or newer, and pg_basebackup writing a tar (-Ft)?',
      },
    );
  const label = inspector.files.get('backup_label')?.toString('utf8');
  if (label === undefined) throw missing('backup_label');
  const control = inspector.files.get('global/pg_control');
  const systemIdentifier = control && systemIdentifierFromControl(control);
  if (!systemIdentifier) throw missing('global/pg_control');
  const startText = /^START WAL LOCATION: (\S+)/m.exec(label)?.[1];
  if (!startText) throw missing('start WAL location in backup_label');
  const startLsn = parseLsn(startText);
  const timeline = Number(labelField(label, 'START TIMELINE') ?? NaN);
  if (!Number.isInteger(timeline)) throw missing('start timeline in backup_label');
  const stopLsn = stopLsnOf(inspector, stderr);
  if (stopLsn === undefined) throw missing('end WAL location (backup_manifest or -v output)');
  const header = inspector.prefix && readWalSegmentHeader(inspector.prefix.bytes);
  const segmentSize = header?.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
  return {
    systemIdentifier,
    pgVersion: inspector.files.get('PG_VERSION')?.toString('utf8').trim() ?? '',
    timeline,
    startLsn,
    stopLsn,
    segmentSize,
    startWal: segmentName(timeline, segmentOf(startLsn, segmentSize), segmentSize),
    stopWal: segmentName(timeline, segmentOf(stopLsn, segmentSize), segmentSize),
    label: labelField(label, 'LABEL') ?? '',
    startTime: labelField(label, 'START TIME') ?? '',
  };
}

function stopLsnOf(inspector: TarInspector, stderr: string): bigint | undefined {
  const manifest = inspector.files.get('backup_manifest');
  if (manifest) {
    try {
      const parsed = JSON.parse(manifest.toString('utf8')) as {
        'WAL-Ranges'?: { 'End-LSN'?: string }[];
      };
      const end = parsed['WAL-Ranges']?.at(-1)?.['End-LSN'];
      if (end) return parseLsn(end);
    } catch {
      // fall back to the -v output
    }
  }
  const m = /write-ahead log end point: (\S+)/.exec(stderr);
  return m ? parseLsn(m[1]!) : undefined;
}
