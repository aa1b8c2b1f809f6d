/** `holdfast pg check`: WAL continuity from every base backup, timeline history, achieved RPO. */
import type { Command } from 'commander';
import { runPgCheck, type PgCheckOutcome } from '../../app/index.js';
import { formatLsn } from '../../sources/index.js';
import type { RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { dbContext } from './db-context.js';

export const registerPgCheck: RegisterCommand = (pg, kit) => {
  pg.command('check')
    .description(
      'check that the WAL archive is continuous from each base backup to the newest segment and report the newest recoverable point (exit 13 on gaps)',
    )
    .option('--system-id <id>', 'the cluster to check, when the repository holds several')
    .action(async (opts: { systemId?: string }, cmd: Command) => {
      const ctx = dbContext(kit, cmd);
      const repo = await ctx.open();
      const out = await ctx.locked(repo, 'shared', () =>
        runPgCheck({
          repo,
          ...(opts.systemId !== undefined && { systemId: opts.systemId }),
          ...(ctx.signal && { signal: ctx.signal }),
        }),
      );
      if (ctx.json) ctx.emit(checkJson(out));
      else print(ctx, out);
      if (!out.ok) kit.setExitCode(EXIT_CODES.INTEGRITY);
    });
};

function checkJson(o: PgCheckOutcome): unknown {
  return {
    ok: o.ok,
    system_identifier: o.systemId ?? null,
    wal_segment_size: o.segmentSize,
    segments: o.segmentCount,
    timelines: o.timelines,
    problems: o.problems,
    base_backups: o.bases.map((b) => ({
      snapshot_id: b.base.entry.id,
      time: b.base.entry.snapshot.time,
      timeline: b.base.timeline,
      start_lsn: formatLsn(b.base.startLsn),
      stop_lsn: formatLsn(b.base.stopLsn),
      timelines: b.timelines.map((c) => ({
        timeline: c.timeline,
        from: c.from,
        newest: c.newest?.name ?? null,
        gaps: c.gaps,
        recoverable_lsn: formatLsn(c.recoverableLsn),
        recoverable_segment: c.lastContinuous?.name ?? null,
      })),
    })),
    newest_recoverable: o.newestRecoverable
      ? {
          timeline: o.newestRecoverable.timeline,
          lsn: o.newestRecoverable.lsn,
          time: o.newestRecoverable.time,
          rpo_seconds: o.newestRecoverable.ageSeconds,
        }
      : null,
  };
}

function print(ctx: Context, o: PgCheckOutcome): void {
  ctx.out(
    `cluster ${o.systemId ?? '(unknown)'}: ${o.bases.length} base backups, ${o.segmentCount} WAL segments, timelines ${o.timelines.join(', ')}`,
  );
  for (const b of o.bases) {
    ctx.out(
      `base backup ${b.base.entry.id.slice(0, 8)} (${b.base.entry.snapshot.time}, timeline ${b.base.timeline}, ` +
        `${formatLsn(b.base.startLsn)} to ${formatLsn(b.base.stopLsn)})`,
    );
    for (const c of b.timelines) {
      const head = `  timeline ${c.timeline}:`;
      if (!c.newest) {
        ctx.out(
          `${head} no archived WAL after the backup yet (needs ${c.from}); recoverable to ${formatLsn(c.recoverableLsn)}`,
        );
        continue;
      }
      for (const g of c.gaps)
        ctx.out(
          `${head} GAP: ${g.count === 1 ? g.first : `${g.first} .. ${g.last}`} missing (${g.count} segment${g.count === 1 ? '' : 's'})`,
        );
      ctx.out(
        `${head} ${c.gaps.length === 0 ? 'continuous' : 'recoverable only'} from ${c.from} to ${c.lastContinuous?.name ?? c.from}` +
          `${c.gaps.length > 0 ? ` (newest archived: ${c.newest.name})` : ''}; recoverable to ${formatLsn(c.recoverableLsn)}`,
      );
    }
  }
  for (const p of o.problems) ctx.out(`problem: ${p}`);
  const n = o.newestRecoverable;
  if (n)
    ctx.out(
      `newest recoverable point: timeline ${n.timeline}, LSN ${n.lsn}, archived ${n.time} (RPO ${Math.round(n.ageSeconds)}s)`,
    );
  ctx.out(o.ok ? 'no problems found' : 'the archive has problems: see above');
}
