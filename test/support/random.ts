// Deterministic randomness for tests: fast-check picks shapes and a seed, this generator fills
// values (uniform doubles, so ties and kinks have probability ~0 unlike fast-check's biased doubles).

import fc from 'fast-check';

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test data. */
export function rngFrom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const uniform = (rng: Rng, n: number, lo = -2, hi = 2): number[] => Array.from({ length: n }, () => lo + (hi - lo) * rng());
export const randInt = (rng: Rng, n: number) => Math.floor(rng() * n);

/** fast-check settings: a fixed seed unless FC_SEED is set, so CI is reproducible; FC_RUNS scales effort. */
export function fcParams(defaultRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20251128;
  const runs = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : defaultRuns;
  return { seed, numRuns: runs };
}

export const dimArb = (max = 4) => fc.integer({ min: 1, max });
export const shapeArb = (minRank = 1, maxRank = 3, maxDim = 4) => fc.array(dimArb(maxDim), { minLength: minRank, maxLength: maxRank });
