/**
 * Watches a tar stream go by (ustar, as pg_basebackup writes it) and keeps the few small members
 * a caller asks for, without buffering the rest: the stream itself passes through unchanged.
 */

const BLOCK = 512;

export interface TarInspectorOptions {
  /** Member names to keep whole (a leading "./" is ignored), each at most `maxSize` bytes. */
  readonly keep: readonly string[];
  /** Keep the first `prefixBytes` of the first member whose name matches. */
  readonly prefixOf?: { readonly match: (name: string) => boolean; readonly bytes: number };
  readonly maxSize?: number;
}

export class TarInspector {
  /** Kept members by name. */
  readonly files = new Map<string, Buffer>();
  /** The prefix asked for by `prefixOf`, once seen. */
  prefix: { readonly name: string; readonly bytes: Buffer } | undefined;
  members = 0;

  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current member's data (padding included) still to come. */
  private remaining = 0;
  private dataLeft = 0;
  private capture: { name: string; parts: Buffer[]; whole: boolean } | undefined;
  private readonly maxSize: number;

  constructor(private readonly options: TarInspectorOptions) {
    this.maxSize = options.maxSize ?? 16 * 1024 * 1024;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        this.data(chunk.subarray(pos, pos + n));
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.endMember();
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.startMember();
      }
    }
  }

  private startMember(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) return; // end-of-archive blocks
    const field = (start: number, len: number): string =>
      h
        .subarray(start, start + len)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseSize(h.subarray(124, 136));
    this.members++;
    this.dataLeft = size;
    this.remaining = Math.ceil(size / BLOCK) * BLOCK;
    const clean = name.replace(/^\.\//, '');
    if (this.options.keep.includes(clean) && size <= this.maxSize)
      this.capture = { name: clean, parts: [], whole: true };
    else if (!this.prefix && this.options.prefixOf?.match(clean))
      this.capture = { name: clean, parts: [], whole: false };
    if (this.remaining === 0) this.endMember();
  }

  private data(bytes: Buffer): void {
    const useful = bytes.subarray(0, Math.max(0, Math.min(bytes.length, this.dataLeft)));
    this.dataLeft -= useful.length;
    const c = this.capture;
    if (!c || useful.length === 0) return;
    if (c.whole) c.parts.push(Buffer.from(useful));
    else {
      const have = c.parts.reduce((n, p) => n + p.length, 0);
      const want = this.options.prefixOf!.bytes - have;
      if (want > 0) c.parts.push(Buffer.from(useful.subarray(0, want)));
    }
  }

  private endMember(): void {
    const c = this.capture;
    this.capture = undefined;
    if (!c) return;
    const bytes = Buffer.concat(c.parts);
    if (c.whole) this.files.set(c.name, bytes);
    else this.prefix = { name: c.name, bytes: bytes.subarray(0, this.options.prefixOf!.bytes) };
  }
}

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function parseSize(field: Buffer): number {
  if ((field[0]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/g, '')
    .trim();
  return text ? parseInt(text, 8) : 0;
}

/** Passes `source` through unchanged while `inspector` watches it. */
export async function* inspectTar(
  source: AsyncIterable<Buffer>,
  inspector: TarInspector,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    inspector.push(chunk);
    yield chunk;
  }
}
