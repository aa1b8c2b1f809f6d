/** `init --object-lock-days N --object-lock-mode MODE` (and the hidden --object-lock-period). */
import type { Command } from 'commander';
import { HoldfastError, parseDuration } from '../core/index.js';
import {
  DAY_SECONDS,
  MAX_LOCK_DAYS,
  objectLockConfig,
  type ObjectLockConfig,
} from '../engine/index.js';

export function objectLockOption(
  opts: Record<string, string | boolean | undefined>,
  cmd: Command,
): { objectLock?: ObjectLockConfig } {
  const days = opts.objectLockDays;
  const period = opts.objectLockPeriod;
  const modeGiven = cmd.getOptionValueSource('objectLockMode') === 'cli';
  if (days === undefined && period === undefined) {
    if (modeGiven) throw new HoldfastError('USAGE', '--object-lock-mode needs --object-lock-days');
    return {};
  }
  if (days !== undefined && period !== undefined)
    throw new HoldfastError('USAGE', 'give --object-lock-days or --object-lock-period, not both');
  let seconds: number;
  if (typeof days === 'string') {
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LOCK_DAYS)
      throw new HoldfastError('USAGE', `invalid --object-lock-days "${days}"`, {
        hint: `a whole number of days from 1 to ${MAX_LOCK_DAYS}`,
      });
    seconds = n * DAY_SECONDS;
  } else {
    const ms = parseDuration(String(period));
    if (ms === undefined || ms < 1000)
      throw new HoldfastError('USAGE', `invalid --object-lock-period "${String(period)}"`);
    seconds = Math.round(ms / 1000);
  }
  const mode = String(opts.objectLockMode);
  if (mode !== 'governance' && mode !== 'compliance')
    throw new HoldfastError('USAGE', `invalid --object-lock-mode "${mode}"`, {
      hint: 'governance (privileged users can still delete) or compliance (nobody can)',
    });
  return { objectLock: objectLockConfig(mode, seconds) };
}
