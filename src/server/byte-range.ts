/**
 * The Range header of a GET, restricted to what the ObjectStore needs: one range,
 * `bytes=FIRST-LAST` (both inclusive). The server is stricter than HTTP: a range that is not
 * entirely inside the object is answered 416 rather than shortened, because a reader asking past
 * the end has an index that disagrees with the object (INTEGRITY), and a shortened answer would
 * hide that.
 */
import { HoldfastError } from '../core/index.js';
import type { ByteRange } from '../storage/index.js';

/** The requested range, or undefined when the request has no Range header. */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(header.trim());
  const first = m ? Number(m[1]) : NaN;
  const last = m ? Number(m[2]) : NaN;
  if (!m || last < first) {
    throw new HoldfastError('USAGE', `unsupported Range header "${header.slice(0, 60)}"`, {
      hint: 'the server accepts one range, bytes=FIRST-LAST',
    });
  }
  return { offset: first, length: last - first + 1 };
}
