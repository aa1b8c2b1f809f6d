/**
 * The live progress line on a terminal (rewritten in place on stderr), and the same numbers as
 * JSON status lines with --json. Both are driven by a timer, not by events, so a fast stream of
 * small files costs no extra output.
 */
import { formatBytes } from '../core/index.js';
import type { Context } from './context.js';

export interface ProgressState {
  filesDone: number;
  bytesDone: number;
  totalFiles: number;
  totalBytes: number;
  totalsKnown: boolean;
  errors: number;
  current: Set<string>;
}

export function newProgressState(): ProgressState {
  return {
    filesDone: 0,
    bytesDone: 0,
    totalFiles: 0,
    totalBytes: 0,
    totalsKnown: false,
    errors: 0,
    current: new Set(),
  };
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function percent(p: ProgressState): number {
  return p.totalBytes > 0 ? Math.min(1, p.bytesDone / p.totalBytes) : 0;
}

export function etaSeconds(p: ProgressState, elapsed: number): number | undefined {
  const frac = percent(p);
  if (!p.totalsKnown || frac <= 0.01) return undefined;
  return (elapsed / frac) * (1 - frac);
}

export function progressText(p: ProgressState, elapsed: number, width: number): string {
  const rate = elapsed > 0 ? p.bytesDone / elapsed : 0;
  const eta = etaSeconds(p, elapsed);
  const totals = p.totalFiles > 0 ? ` of ${p.totalFiles} files, ${formatBytes(p.totalBytes)}` : '';
  const head =
    `[${clock(elapsed)}] ${p.totalsKnown ? (percent(p) * 100).toFixed(1) + '% ' : ''}` +
    `${p.filesDone} files ${formatBytes(p.bytesDone)}${totals}, ${formatBytes(rate)}/s` +
    `${eta !== undefined ? ` ETA ${clock(eta)}` : ''}${p.errors ? `, ${p.errors} errors` : ''}`;
  const current = [...p.current][0];
  const line = current ? `${head}  ${current}` : head;
  return line.length > width ? line.slice(0, width - 1) + '…' : line;
}

export function statusJson(p: ProgressState, elapsed: number): Record<string, unknown> {
  const eta = etaSeconds(p, elapsed);
  return {
    message_type: 'status',
    seconds_elapsed: Math.round(elapsed),
    ...(eta !== undefined && { seconds_remaining: Math.round(eta) }),
    percent_done: percent(p),
    total_files: p.totalFiles,
    files_done: p.filesDone,
    total_bytes: p.totalBytes,
    bytes_done: p.bytesDone,
    error_count: p.errors,
    current_files: [...p.current].slice(0, 2),
  };
}

/** Whether a command shows progress: a line on a terminal, or JSON status messages. */
export function reportsProgress(ctx: Context): boolean {
  return ctx.json || (ctx.io.interactive && !ctx.flags.quiet);
}

/**
 * Reports `p` every 250 ms on a terminal (the line rewritten in place) or every second as JSON
 * status messages, after `refresh` updates it. The returned function stops the reports: it
 * clears the line, and with --json emits one last status, so that a consumer always sees the
 * final counts however short the run.
 */
export function startProgressReport(
  ctx: Context,
  p: ProgressState,
  refresh: () => void = () => undefined,
): () => void {
  if (!reportsProgress(ctx)) return () => undefined;
  const started = Date.now();
  const tick = (): void => {
    refresh();
    const elapsed = (Date.now() - started) / 1000;
    if (ctx.json) ctx.emit(statusJson(p, elapsed));
    else
      ctx.io.stderr.write(
        '\r\x1b[K' +
          progressText(p, elapsed, (ctx.io.stderr as { columns?: number }).columns ?? 100),
      );
  };
  const timer = setInterval(tick, ctx.json ? 1000 : 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (ctx.json) tick();
    else ctx.io.stderr.write('\r\x1b[K');
  };
}
