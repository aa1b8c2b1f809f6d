/** Byte sizes and human-readable formatting shared by every layer. */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${value} B`
    : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

/** Parses "512K", "1MiB", "16M", "2g", plain numbers (bytes). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const factor = { '': 1, k: KiB, m: MiB, g: GiB, t: GiB * 1024 }[(m[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

/** Concatenates byte arrays without copying when there is only one. */
export function concatBytes(parts: readonly Uint8Array[]): Buffer {
  if (parts.length === 1) {
    const only = parts[0]!;
    return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  }
  return Buffer.concat(parts);
}

/**
 * The ArrayBuffer to transfer to a worker thread for `bytes`: its own when it spans all of it
 * (memory the caller owns, as ObjectStore.get returns it), else a copy (a slice of Node's
 * small-buffer pool, say, whose other slices belong to others).
 */
export function transferable(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  )
    return buffer;
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

/**
 * A copy of `bytes` in a buffer of its own. For small buffers kept long: Node cuts a Buffer under
 * 4 KiB out of a shared 8 KiB pool (Buffer.allocUnsafe, Buffer.concat), and a slice kept keeps
 * its whole pool alive — thousands of kept paths held thousands of pools.
 */
export function ownBytes(bytes: Uint8Array): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  own.set(bytes);
  return own;
}
