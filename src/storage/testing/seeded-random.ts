/**
 * mulberry32: a tiny seeded PRNG, so fault injection and test data are reproducible from a seed.
 * Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic bytes from a seed (fast enough for tens of MiB). */
export function seededBytes(seed: number, length: number): Buffer {
  const random = seededRandom(seed);
  const words = new Uint32Array(Math.ceil(length / 4));
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(random() * 4294967296);
  return Buffer.from(words.buffer, 0, length);
}
