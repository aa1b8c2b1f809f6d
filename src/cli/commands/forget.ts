/** `holdfast forget`: remove snapshots by retention policy (restic's flags) or by id. */
import type { Command } from 'commander';
import { runForget, type ForgetCandidate, type ForgetOutcome } from '../../app/index.js';
import { HoldfastError } from '../../core/index.js';
import {
  describePolicy,
  parseGroupBy,
  parseRetentionDuration,
  systemTimeZone,
  UNLIMITED,
  ZonedCalendar,
  type GroupKey,
  type RetentionGroup,
  type RetentionPolicy,
} from '../../policy/index.js';
import { collect, type RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';
import { snapshotJson, table } from '../format-output.js';
import { pruneAndReport } from './prune.js';

interface ForgetFlags {
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  keepWithinHourly?: string;
  keepWithinDaily?: string;
  keepWithinWeekly?: string;
  keepWithinMonthly?: string;
  keepWithinYearly?: string;
  keepTag?: string[];
  host?: string[];
  tag?: string[];
  path?: string[];
  groupBy: string;
  tz?: string;
  dryRun?: boolean;
  prune?: boolean;
  maxUnused: string;
  maxRepackSize?: string;
  unsafeAllowRemoveAll?: boolean;
}

/** restic's counts: a whole number or "unlimited" (-1). */
function parseCount(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'unlimited') return UNLIMITED;
  if (!/^-?\d+$/.test(text.trim()))
    throw new HoldfastError('USAGE', `invalid --${flag} "${text}"`, {
      hint: "use a whole number, or 'unlimited'",
    });
  const n = Number(text);
  if (n < 0)
    throw new HoldfastError('USAGE', `invalid --${flag} "${text}"`, {
      hint: "negative values are not allowed, use 'unlimited' instead",
    });
  return n;
}

function splitTagList(text: string): string[] {
  return text.split(',').map((t) => t.trim());
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function policyFromFlags(f: ForgetFlags): RetentionPolicy {
  const p: Mutable<RetentionPolicy> = {};
  const counts = [
    ['last', f.keepLast],
    ['hourly', f.keepHourly],
    ['daily', f.keepDaily],
    ['weekly', f.keepWeekly],
    ['monthly', f.keepMonthly],
    ['yearly', f.keepYearly],
  ] as const;
  for (const [rule, text] of counts) {
    const n = parseCount(`keep-${rule}`, text);
    if (n !== undefined) p[rule] = n;
  }
  const durations = [
    ['within', f.keepWithin],
    ['withinHourly', f.keepWithinHourly],
    ['withinDaily', f.keepWithinDaily],
    ['withinWeekly', f.keepWithinWeekly],
    ['withinMonthly', f.keepWithinMonthly],
    ['withinYearly', f.keepWithinYearly],
  ] as const;
  for (const [rule, text] of durations)
    if (text !== undefined) p[rule] = parseRetentionDuration(text);
  if (f.keepTag?.length) p.tags = f.keepTag.map(splitTagList);
  return p;
}

/** --tz, else a valid TZ from the environment, else the system zone. */
function timeZone(ctx: Context, flag: string | undefined): string {
  if (flag !== undefined) return ZonedCalendar.of(flag).timeZone;
  const env = ctx.io.env.TZ;
  if (env) {
    try {
      return ZonedCalendar.of(env.replace(/^:/, '')).timeZone;
    } catch {
      // Not an IANA name (a POSIX rule such as "CET-1CEST"): fall back to the system zone.
    }
  }
  return systemTimeZone();
}

export const registerForget: RegisterCommand = (program, kit) => {
  program
    .command('forget')
    .description(
      'remove snapshots by a retention policy or by id (the data stays until prune); ' +
        'snapshots dated in the future are always kept',
    )
    .argument('[snapshots...]', 'snapshots to remove: ids, unique prefixes or "latest"')
    .option('-l, --keep-last <n>', "keep the last n snapshots ('unlimited' for all)")
    .option('-H, --keep-hourly <n>', 'keep the last n hourly snapshots')
    .option('-d, --keep-daily <n>', 'keep the last n daily snapshots')
    .option('-w, --keep-weekly <n>', 'keep the last n weekly snapshots')
    .option('-m, --keep-monthly <n>', 'keep the last n monthly snapshots')
    .option('-y, --keep-yearly <n>', 'keep the last n yearly snapshots')
    .option(
      '--keep-within <duration>',
      'keep snapshots newer than duration (e.g. 1y5m7d2h) relative to the latest snapshot',
    )
    .option('--keep-within-hourly <duration>', 'keep hourly snapshots within duration')
    .option('--keep-within-daily <duration>', 'keep daily snapshots within duration')
    .option('--keep-within-weekly <duration>', 'keep weekly snapshots within duration')
    .option('--keep-within-monthly <duration>', 'keep monthly snapshots within duration')
    .option('--keep-within-yearly <duration>', 'keep yearly snapshots within duration')
    .option('--keep-tag <taglist>', 'keep snapshots with all these tags (repeatable)', collect)
    .option('--host <host>', 'only consider snapshots of this host (repeatable)', collect)
    .option('--tag <taglist>', 'only consider snapshots with these tags (repeatable)', collect)
    .option('--path <path>', 'only consider snapshots including this path (repeatable)', collect)
    .option(
      '-g, --group-by <group>',
      'group by host, paths and/or tags ("" for none)',
      'host,paths',
    )
    .option('--tz <zone>', 'time zone of the calendar buckets (IANA name; default local)')
    .option('-n, --dry-run', 'only show what would be removed')
    .option('--prune', 'run prune afterwards when snapshots were removed')
    .option('--max-unused <percent>', 'with --prune: tolerated unused share', '5%')
    .option('--max-repack-size <size>', 'with --prune: repack at most this much')
    .option(
      '--unsafe-allow-remove-all',
      'allow an empty policy to remove every snapshot the --host/--tag/--path filter selects',
    )
    .action(async (refs: string[], opts: ForgetFlags, cmd: Command) => {
      const ctx = kit.context(cmd);
      const policy = policyFromFlags(opts);
      const groupBy = parseGroupBy(opts.groupBy);
      const zone = timeZone(ctx, opts.tz);
      const repo = await ctx.open();
      const request = {
        repo,
        policy,
        groupBy,
        filter: {
          ...(opts.host && { hosts: opts.host }),
          ...(opts.path && { paths: opts.path }),
          ...(opts.tag && { tagLists: opts.tag.map(splitTagList) }),
        },
        snapshots: refs,
        timeZone: zone,
        ...(opts.dryRun && { dryRun: true }),
        ...(opts.unsafeAllowRemoveAll && { allowRemoveAll: true }),
        ...(ctx.signal && { signal: ctx.signal }),
      };
      if (refs.length === 0) ctx.info(`Applying Policy: ${describePolicy(policy)}`);
      // Forget deletes snapshot objects only, never data: a shared lock, so backups go on.
      const outcome = opts.dryRun
        ? await runForget(request)
        : await ctx.locked(repo, 'shared', () =>
            runForget({
              ...request,
              onRemoved: (id) => {
                if (!ctx.json) ctx.info(`removed snapshot ${id.slice(0, 8)}`);
              },
              onRetained: (id, until) => {
                if (!ctx.json)
                  ctx.info(
                    `kept snapshot ${id.slice(0, 8)}: retained until ${until.toISOString()}`,
                  );
              },
            }),
          );
      report(ctx, outcome, ZonedCalendar.of(zone));
      if (opts.prune && outcome.removed.length > 0) {
        ctx.info(
          `${outcome.removed.length} snapshots ${opts.dryRun ? 'would be' : 'have been'} removed, running prune`,
        );
        await pruneAndReport(ctx, {
          maxUnused: opts.maxUnused,
          ...(opts.maxRepackSize !== undefined && { maxRepackSize: opts.maxRepackSize }),
          ...(opts.dryRun && { dryRun: true }),
        });
      }
    });
};

function report(ctx: Context, o: ForgetOutcome, cal: ZonedCalendar): void {
  for (const e of o.futureDated)
    ctx.warn(
      `snapshot ${e.id.slice(0, 8)} is dated ${e.snapshot.time}, after this host's clock ` +
        `(${o.now.toISOString()}): kept, and ignored by the policy`,
    );
  if (ctx.json) {
    ctx.emit(o.groups.map(groupJson));
    return;
  }
  if (!ctx.flags.quiet) for (const g of o.groups) printGroup(ctx, g, cal);
  if (o.removed.length === 0) ctx.out('no snapshots to remove');
  else if (o.dryRun)
    ctx.out(
      `would remove ${o.removed.length} snapshots: ${o.removed.map((e) => e.id.slice(0, 8)).join(' ')}`,
    );
  else ctx.out(`removed ${o.removed.length} snapshots`);
  if (o.retained.length > 0) {
    const last = Math.max(...o.retained.map((r) => r.until.getTime()));
    ctx.out(
      `${o.retained.length} snapshots are retained by object lock (until ${new Date(last).toISOString()} at the latest) and were kept`,
    );
  }
}

/** restic's `forget --json` group: tags/host/paths, keep, remove, reasons (null when empty). */
function groupJson(g: RetentionGroup<ForgetCandidate>): Record<string, unknown> {
  const list = (l: ForgetCandidate[]): unknown[] | null =>
    l.length ? l.map((c) => snapshotJson(c.entry)) : null;
  return {
    tags: g.group_key.tags ?? null,
    host: g.group_key.hostname ?? '',
    paths: g.group_key.paths ?? null,
    keep: list(g.keep),
    remove: list(g.remove),
    reasons: g.reasons.length
      ? g.reasons.map((r) => ({
          snapshot: snapshotJson(r.snapshot.entry),
          matches: r.matches,
          counters: r.counters,
        }))
      : null,
  };
}

function groupTitle(k: GroupKey): string {
  const parts = [
    k.hostname !== undefined && `host [${k.hostname}]`,
    k.paths && `paths [${k.paths.join(', ')}]`,
    k.tags && `tags [${k.tags.join(', ')}]`,
  ].filter(Boolean);
  return parts.length ? `snapshots for (${parts.join(', ')}):` : 'snapshots:';
}

function printGroup(ctx: Context, g: RetentionGroup<ForgetCandidate>, cal: ZonedCalendar): void {
  ctx.out(groupTitle(g.group_key));
  const reasons = new Map(g.reasons.map((r) => [r.snapshot.id, r.matches]));
  const section = (verb: string, list: ForgetCandidate[], withReasons: boolean): void => {
    if (list.length === 0) return;
    ctx.out(`${verb} ${list.length} snapshots:`);
    const header = ['ID', 'Time', 'Host', 'Tags', ...(withReasons ? ['Reasons'] : []), 'Paths'];
    const rows: string[][] = [];
    // Oldest first, as restic prints them.
    for (const c of [...list].reverse()) {
      const s = c.entry.snapshot;
      const why = withReasons ? (reasons.get(c.id) ?? []) : [];
      const lines = Math.max(1, why.length, s.paths.length);
      for (let i = 0; i < lines; i++) {
        const first = i === 0;
        rows.push([
          first ? c.id.slice(0, 8) : '',
          first ? cal.format(Date.parse(s.time)) : '',
          first ? s.hostname : '',
          first ? (s.tags ?? []).join(',') : '',
          ...(withReasons ? [why[i] ?? ''] : []),
          s.paths[i] ?? '',
        ]);
      }
    }
    const body = table([header, ...rows]).split('\n');
    const rule = '-'.repeat(Math.max(...body.map((l) => l.length)));
    // A blank line after each table, as restic prints them.
    ctx.out(
      [body[0], rule, ...body.slice(1), rule, `${list.length} snapshots`].join('\n') + '\n\n',
    );
  };
  section('keep', g.keep, true);
  section('remove', g.remove, false);
}
