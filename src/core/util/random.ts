// The one pseudo-random generator of the project (mulberry32: small, fast, 32-bit state), for
// weights, data order and test data. GPU-side randomness (dropout masks) is the counter-based
// `rand` op instead (src/core/ir/ops.ts), which needs no state.

/** A generator of uniform numbers in [0, 1); each call advances its state. */
export type Rng = () => number;

/** Uniform [0, 1) numbers from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3's 32-bit finaliser: a bijective mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A generator keyed by several integers (seed, epoch, purpose, ...), all 53 bits of each used. */
export function keyedRng(...keys: number[]): Rng {
  let a = 0x9e3779b9;
  for (const k of keys) a = fmix32((a ^ fmix32(k >>> 0) ^ fmix32(Math.floor(k / 4294967296) >>> 0)) + 0x6d2b79f5);
  return mulberry32(a);
}

/** n uniform values in [lo, hi). */
export function uniformArray(rng: Rng, n: number, lo = -1, hi = 1): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + rng() * (hi - lo);
  return out;
}
