/** Whole-number settings given as text (flags, environment variables), checked once. */
import { HoldfastError } from '../core/index.js';

/**
 * `text` as a whole number from `min` to `max`; undefined when not given. `name` says where the
 * text came from (a flag, an environment variable), for the USAGE error.
 */
export function parseCount(
  text: string | undefined,
  name: string,
  max: number,
  min = 1,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new HoldfastError(
      'USAGE',
      `invalid ${name} "${text}": expected a whole number from ${min} to ${max}`,
    );
  return n;
}
