/**
 * Facts read straight from PostgreSQL's binary files, without a connection: the long page header
 * that opens every WAL segment (XLogLongPageHeaderData) and the first field of `global/pg_control`.
 * Both are written in the server's native byte order; holdfast assumes little-endian (x86, arm64).
 */

/** XLOG_PAGE_MAGIC of each major version: it changes whenever the WAL format does. */
const MAGIC_VERSIONS: ReadonlyMap<number, number> = new Map([
  [0xd101, 12],
  [0xd106, 13],
  [0xd10d, 14],
  [0xd110, 15],
  [0xd113, 16],
  [0xd116, 17],
]);

const XLP_LONG_HEADER = 0x0002;

export interface WalSegmentHeader {
  readonly magic: number;
  readonly timeline: number;
  readonly pageAddress: bigint;
  /** Decimal, as pg_controldata prints it. */
  readonly systemIdentifier: string;
  readonly segmentSize: number;
  readonly blockSize: number;
  /** Major version for a known magic number. */
  readonly pgVersion: number | undefined;
}

/** The long header of a WAL segment, or undefined when `bytes` does not start with one. */
export function readWalSegmentHeader(bytes: Buffer): WalSegmentHeader | undefined {
  if (bytes.length < 40) return undefined;
  const info = bytes.readUInt16LE(2);
  if ((info & XLP_LONG_HEADER) === 0) return undefined;
  const segmentSize = bytes.readUInt32LE(32);
  // A power of two between 1 MiB and 1 GiB, as initdb --wal-segsize allows.
  if (segmentSize < 1 << 20 || segmentSize > 1 << 30 || (segmentSize & (segmentSize - 1)) !== 0)
    return undefined;
  const magic = bytes.readUInt16LE(0);
  return {
    magic,
    timeline: bytes.readUInt32LE(4),
    pageAddress: bytes.readBigUInt64LE(8),
    systemIdentifier: bytes.readBigUInt64LE(24).toString(),
    segmentSize,
    blockSize: bytes.readUInt32LE(36),
    pgVersion: MAGIC_VERSIONS.get(magic),
  };
}

/** The database system identifier: the first 8 bytes of `global/pg_control`. */
export function systemIdentifierFromControl(bytes: Buffer): string | undefined {
  return bytes.length >= 8 ? bytes.readBigUInt64LE(0).toString() : undefined;
}
