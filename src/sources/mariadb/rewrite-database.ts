/**
 * Restoring a dump under another database name: the `CREATE DATABASE` line of a `--databases`
 * dump is dropped (the caller creates the new database), `USE` and `ALTER DATABASE` lines are
 * pointed at the new name. Only lines that *start* with those statements are touched: table data
 * (INSERT lines, possibly megabytes long) streams through without being buffered.
 */
import { quoteIdentifier } from './mysql-connection.js';

const PREFIXES = ['CREATE DATABASE ', 'USE ', 'ALTER DATABASE '].map((p) => Buffer.from(p));
/** A candidate line longer than this is not a database statement: stream it through. */
const MAX_CANDIDATE = 64 * 1024;

function mayBeCandidate(start: Buffer): boolean {
  return PREFIXES.some((p) => {
    const n = Math.min(p.length, start.length);
    return start.subarray(0, n).equals(p.subarray(0, n));
  });
}

export function rewriteLine(line: string, newName: string): string {
  if (line.startsWith('CREATE DATABASE ')) return '';
  const eol = line.endsWith('\n') ? '\n' : '';
  if (/^USE `(?:[^`]|``)*`;/.test(line)) return `USE ${quoteIdentifier(newName)};${eol}`;
  const alter = /^ALTER DATABASE `(?:[^`]|``)*`(.*)$/s.exec(line);
  if (alter) return `ALTER DATABASE ${quoteIdentifier(newName)}${alter[1]}`;
  return line;
}

export async function* rewriteDatabase(
  source: AsyncIterable<Buffer>,
  newName: string,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let passthrough = false; // inside a line that is not a candidate
  const flushCandidate = (): Buffer => {
    const line = Buffer.concat(pending).toString('utf8');
    pending = [];
    pendingLength = 0;
    return Buffer.from(rewriteLine(line, newName), 'utf8');
  };
  for await (const chunk of source) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl < 0 ? chunk.length : nl + 1;
      const piece = chunk.subarray(pos, end);
      pos = end;
      if (passthrough) {
        yield piece;
        if (nl >= 0) passthrough = false;
        continue;
      }
      pending.push(piece);
      pendingLength += piece.length;
      if (nl >= 0) {
        yield flushCandidate();
        continue;
      }
      const head = Buffer.concat(pending);
      if (!mayBeCandidate(head) || pendingLength > MAX_CANDIDATE) {
        yield head;
        pending = [];
        pendingLength = 0;
        passthrough = true;
      } else pending = [head];
    }
  }
  if (pendingLength > 0) yield flushCandidate();
}
