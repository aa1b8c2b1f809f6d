/**
 * The keyed gear table: 256 pseudo-random 32-bit values, one per byte value, derived from the
 * repository's secret chunker key. Keying the table keeps an attacker who only sees blob sizes
 * from precomputing the boundaries of known files (docs/adr/0001-chunker.md).
 *
 * Format rule (normative, changing it changes every chunk boundary):
 *   for j = 0..31: block_j = HMAC-SHA256(chunkerKey, ASCII "holdfast gear table v1" || uint32be(j))
 *   table bytes   = block_0 || block_1 || ... || block_31            (1024 bytes)
 *   gear[i]       = uint32le(table bytes[4i .. 4i+4)),  i = 0..255
 */
import { createHmac } from 'node:crypto';
import { HoldfastError } from '../../core/index.js';

export const CHUNKER_KEY_LENGTH = 32;

const LABEL = Buffer.from('holdfast gear table v1', 'ascii');
const BLOCKS = 32; // 32 blocks x 32 bytes = 256 entries x 4 bytes

/**
 * Returns the gear table as an Int32Array (same bits as the uint32 values of the spec) because
 * V8 keeps int32 loads unboxed in the hot loop, whereas uint32 values >= 2^31 are doubles.
 */
export function gearTableFromKey(key: Buffer): Int32Array {
  if (key.length !== CHUNKER_KEY_LENGTH) {
    throw new HoldfastError('CONFIG_INVALID', `Chunker key must be ${CHUNKER_KEY_LENGTH} bytes.`);
  }
  const bytes = Buffer.alloc(BLOCKS * 32);
  const counter = Buffer.alloc(4);
  for (let j = 0; j < BLOCKS; j++) {
    counter.writeUInt32BE(j, 0);
    createHmac('sha256', key)
      .update(LABEL)
      .update(counter)
      .digest()
      .copy(bytes, j * 32);
  }
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = bytes.readInt32LE(i * 4);
  return table;
}
