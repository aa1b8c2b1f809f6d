/** How hard Blobs are compressed; a repository setting, overridable per backup. */
import { HoldfastError } from '../../core/index.js';

export type CompressionMode = 'off' | 'auto' | 'max';

const MODES: readonly CompressionMode[] = ['off', 'auto', 'max'];

/** Throws HoldfastError('USAGE') for anything but off, auto or max. */
export function parseCompressionMode(s: string): CompressionMode {
  const mode = MODES.find((m) => m === s);
  if (mode === undefined) {
    throw new HoldfastError('USAGE', `Unknown compression mode "${s}".`, {
      hint: 'Use one of: off, auto, max.',
    });
  }
  return mode;
}
