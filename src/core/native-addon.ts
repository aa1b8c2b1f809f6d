/**
 * Loading holdfast's native addons (native/*.c, built by node-gyp on `npm install` into
 * build/Release/): once per thread, on first use rather than at import, so commands and machines
 * that never need one still work, and with one clear error when an addon is missing.
 */
import { createRequire } from 'node:module';
import { describeError, HoldfastError } from './errors.js';

// Relative to the compiled file, dist/core/native-addon.js: node-gyp's output sits at the package
// root, in the repository and in an installed package alike.
const BUILD_DIR = '../../build/Release/';

const loaded = new Map<string, unknown>();

/** The addon `name` (e.g. "holdfast_crypto"); throws FAILURE naming it when it cannot load. */
export function loadAddon<T>(name: string): T {
  let addon = loaded.get(name);
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(`${BUILD_DIR}${name}.node`) as unknown;
    } catch (err) {
      throw new HoldfastError(
        'FAILURE',
        `cannot load the native addon ${name}: ${describeError(err)}`,
        {
          hint: 'run npm install (it builds the native addons with node-gyp)',
          cause: err,
        },
      );
    }
    loaded.set(name, addon);
  }
  return addon as T;
}
