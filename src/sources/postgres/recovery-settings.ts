/**
 * The recovery settings a restored data directory starts with: lines appended to
 * postgresql.auto.conf (later lines win over earlier ones and over postgresql.conf) plus the
 * recovery.signal file that the caller creates. PostgreSQL 12 and newer.
 */

export type RecoveryTarget =
  | { readonly kind: 'time'; readonly value: string }
  | { readonly kind: 'lsn'; readonly value: string }
  | { readonly kind: 'xid'; readonly value: string }
  | { readonly kind: 'name'; readonly value: string }
  | { readonly kind: 'immediate' }
  | { readonly kind: 'latest' };

export type TargetAction = 'promote' | 'pause' | 'shutdown';

export interface RecoverySettings {
  readonly restoreCommand: string;
  readonly target: RecoveryTarget;
  readonly action: TargetAction;
  /** recovery_target_timeline: 'latest', 'current' or a number. */
  readonly timeline: string;
  readonly port?: number;
  readonly socketDirectory?: string;
  /** Turn WAL archiving off in the restored server. */
  readonly archiveOff?: boolean;
}

/** A string literal for postgresql.conf: single quotes, embedded ones doubled. */
export function confQuote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** One word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function recoveryConfLines(s: RecoverySettings, header: string): string {
  const lines = [`# ${header}`, `restore_command = ${confQuote(s.restoreCommand)}`];
  const t = s.target;
  switch (t.kind) {
    case 'time':
      lines.push(`recovery_target_time = ${confQuote(t.value)}`);
      break;
    case 'lsn':
      lines.push(`recovery_target_lsn = ${confQuote(t.value)}`);
      break;
    case 'xid':
      lines.push(`recovery_target_xid = ${confQuote(t.value)}`);
      break;
    case 'name':
      lines.push(`recovery_target_name = ${confQuote(t.value)}`);
      break;
    case 'immediate':
      lines.push(`recovery_target = 'immediate'`);
      break;
    case 'latest':
      break; // recover until the archive ends, then promote
  }
  if (t.kind !== 'latest') lines.push(`recovery_target_action = ${confQuote(s.action)}`);
  lines.push(`recovery_target_timeline = ${confQuote(s.timeline)}`);
  if (s.port !== undefined) lines.push(`port = ${s.port}`);
  if (s.socketDirectory !== undefined)
    lines.push(`unix_socket_directories = ${confQuote(s.socketDirectory)}`);
  if (s.archiveOff) lines.push(`archive_mode = 'off'`);
  return lines.join('\n') + '\n';
}
