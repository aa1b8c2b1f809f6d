/**
 * A WAL file as archive_command hands it over (%p, relative to the data directory) and what it
 * says about itself: segments and .partial files open with a long page header naming the cluster;
 * .history and .backup files do not, so their cluster is read from global/pg_control.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HoldfastError, describeError } from '../../core/index.js';
import {
  readWalSegmentHeader,
  systemIdentifierFromControl,
  type WalSegmentHeader,
} from './control-data.js';
import { walFileKind, type WalFileKind } from './lsn.js';

export interface WalFile {
  readonly name: string;
  readonly kind: WalFileKind;
  readonly bytes: Buffer;
  readonly header: WalSegmentHeader | undefined;
}

export async function readWalFile(path: string): Promise<WalFile> {
  const name = basename(path);
  const kind = walFileKind(name);
  if (!kind)
    throw new HoldfastError('USAGE', `${name} is not a WAL file name`, {
      hint: 'archive_command passes %p: the path of a segment, .history, .backup or .partial file',
    });
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new HoldfastError('SOURCE_UNAVAILABLE', `cannot read ${path}: ${describeError(err)}`);
  }
  const header = kind === 'segment' || kind === 'partial' ? readWalSegmentHeader(bytes) : undefined;
  if (kind === 'segment' || kind === 'partial') {
    if (!header)
      throw new HoldfastError(
        'INTEGRITY',
        `${name} does not start with a WAL page header; refusing to archive it`,
      );
    if (kind === 'segment' && bytes.length !== header.segmentSize)
      throw new HoldfastError(
        'INTEGRITY',
        `${name} is ${bytes.length} bytes, its header says segments are ${header.segmentSize}; refusing to archive a truncated segment`,
      );
  }
  return { name, kind, bytes, header };
}

/** The system identifier in `dataDir`/global/pg_control, or undefined when it cannot be read. */
export async function readSystemIdentifier(dataDir: string): Promise<string | undefined> {
  try {
    return systemIdentifierFromControl(await readFile(join(dataDir, 'global', 'pg_control')));
  } catch {
    return undefined;
  }
}
