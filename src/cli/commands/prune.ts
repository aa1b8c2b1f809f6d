/** `holdfast prune`: delete data no snapshot references, repack mostly-unused packs. */
import type { Command } from 'commander';
import { runPrune } from '../../app/index.js';
import { formatBytes, HoldfastError, parseBytes } from '../../core/index.js';
import type { PruneResult } from '../../engine/index.js';
import type { RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';

export interface PruneFlags {
  maxUnused: string;
  maxRepackSize?: string;
  dryRun?: boolean;
}

function parseShare(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const f = m ? Number(m[1]) / 100 : NaN;
  if (!(f >= 0 && f <= 1))
    throw new HoldfastError('USAGE', `invalid --max-unused "${text}"`, {
      hint: 'use a percentage such as 5%',
    });
  return f;
}

/** Runs prune under a prune lock and prints its result; shared with `forget --prune`. */
export async function pruneAndReport(ctx: Context, flags: PruneFlags): Promise<PruneResult> {
  const repo = await ctx.open();
  const maxRepackBytes =
    flags.maxRepackSize === undefined ? undefined : parseBytes(flags.maxRepackSize);
  if (maxRepackBytes === undefined && flags.maxRepackSize !== undefined)
    throw new HoldfastError('USAGE', `invalid --max-repack-size "${flags.maxRepackSize}"`);
  const result = await ctx.locked(repo, 'prune', (lock) =>
    runPrune({
      repo,
      lock,
      maxUnused: parseShare(flags.maxUnused),
      ...(maxRepackBytes !== undefined && { maxRepackBytes }),
      ...(flags.dryRun && { dryRun: true }),
      ...(ctx.signal && { signal: ctx.signal }),
      onProgress: (phase) => ctx.info(`prune: ${phase}`),
    }),
  );
  report(ctx, result);
  return result;
}

function report(ctx: Context, r: PruneResult): void {
  const p = r.plan;
  if (ctx.json) {
    ctx.emit({
      message_type: 'summary',
      dry_run: r.dryRun,
      packs_unused: p.remove.length,
      packs_repack: p.repack.length,
      packs_orphaned: p.orphans.length,
      blobs_used: p.usedBlobs,
      blobs_unused: p.unusedBlobs,
      size_total: p.totalBytes,
      size_unused: p.unusedBytes,
      size_unused_after: p.unusedBytesAfter,
      size_repack: p.repackBytes,
      packs_deleted: r.deletedPacks,
      size_freed: r.freedBytes,
      blobs_repacked: r.repackedBlobs,
      packs_resurrected: r.resurrectedPacks,
      packs_waiting: r.waitingPacks,
      waiting_for_sessions: r.waitingFor,
      packs_retained: r.retainedPacks ?? 0,
      ...(r.retainedUntil && { retained_until: r.retainedUntil.toISOString() }),
    });
    return;
  }
  ctx.out(
    `used:   ${p.usedBlobs} blobs; unused: ${p.unusedBlobs} blobs, ${formatBytes(p.unusedBytes)} of ${formatBytes(p.totalBytes)}`,
  );
  ctx.out(
    `plan:   delete ${p.remove.length} unused packs, repack ${p.repack.length} packs (${formatBytes(p.repackBytes)}), ${p.orphans.length} packs no index lists`,
  );
  ctx.out(`after:  ${formatBytes(p.unusedBytesAfter)} unused left in kept packs`);
  if (r.dryRun) {
    ctx.out('dry run: nothing was changed');
    return;
  }
  ctx.out(
    `done:   deleted ${r.deletedPacks} packs (${formatBytes(r.freedBytes)} freed), repacked ${r.repackedBlobs} blobs${r.resurrectedPacks ? `, kept ${r.resurrectedPacks} packs a new snapshot uses` : ''}`,
  );
  const retained = r.retainedPacks ?? 0;
  if (retained > 0 && r.retainedUntil)
    ctx.out(
      `retained: ${retained} packs are locked (object lock) until ${r.retainedUntil.toISOString()} at the latest; a later prune deletes them`,
    );
  if (r.waitingPacks - retained > 0) {
    ctx.out(
      `waiting: ${r.waitingPacks - retained} packs are unindexed and will be deleted by a later prune, once the ${r.waitingFor.length} operations that were running have finished (if one died on another host, "holdfast unlock" clears it)`,
    );
  }
}

export const registerPrune: RegisterCommand = (program, kit) => {
  program
    .command('prune')
    .description('remove data that no snapshot references (runs beside backups)')
    .option('--max-unused <percent>', 'tolerated share of unused data in kept packs', '5%')
    .option('--max-repack-size <size>', 'repack at most this much data')
    .option('-n, --dry-run', 'only show what would be removed')
    .action(async (opts: PruneFlags, cmd: Command) => {
      await pruneAndReport(kit.context(cmd), opts);
    });
};
