/**
 * Path bytes as text for pattern matching. Valid UTF-8 decodes as usual; each byte of an invalid
 * sequence becomes a lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"). Lone surrogates
 * never result from decoding valid UTF-8, so distinct byte strings stay distinct, `?` matches one
 * undecodable byte as Go's filepath.Match does, and ASCII — including '/' — is untouched.
 */
export function pathToText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  // Fast path: the decoder only produces U+FFFD for bad input or an encoded U+FFFD.
  return text.includes('\uFFFD') ? decodeSurrogateEscape(bytes) : text;
}

function decodeSurrogateEscape(bytes: Buffer): string {
  let text = '';
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      text += String.fromCharCode(0xdc00 + bytes[i]!);
      i++;
    } else {
      text += bytes.toString('utf8', i, i + length);
      i += length;
    }
  }
  return text;
}

/** Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0 if ill-formed. */
function sequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const within = (offset: number, lo: number, hi: number): boolean => {
    const b = bytes[i + offset];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return within(1, 0x80, 0xbf) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf; // 0xED A0..BF would encode surrogates
    return within(1, lo, hi) && within(2, 0x80, 0xbf) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf; // beyond U+10FFFF otherwise
    return within(1, lo, hi) && within(2, 0x80, 0xbf) && within(3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}
