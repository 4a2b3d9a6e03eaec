// Deterministic randomness for tests: fast-check picks shapes and a seed, this generator fills
// values (uniform doubles, so ties and kinks have probability ~0 unlike fast-check's biased doubles).

import fc from 'fast-check';

import { mulberry32, type Rng } from '../../src/core/util/random.ts';
import type { Graph } from '../../src/core/ir/graph.ts';
import { numel } from '../../src/core/ir/shape.ts';

export type { Rng };

/** The project's generator (mulberry32), seeded. */
export const rngFrom = (seed: number): Rng => mulberry32(seed);

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

/**
 * Values for every input and parameter of `graph`, in graph order from one generator: inputs uniform
 * in [−range, range), parameters in [−paramRange, paramRange); an input named `onehot` [rows,
 * classes] one-hot, row i of class 3i + 1.
 */
export function randomFeeds(graph: Graph, seed: number, range = 1, paramRange = range): Record<string, number[]> {
  const rng = rngFrom(seed);
  const feeds: Record<string, number[]> = {};
  for (const n of [...graph.inputs, ...graph.params]) {
    const size = numel(n.type.shape);
    if (n.attrs.name === 'onehot') {
      const cols = n.type.shape[n.type.shape.length - 1]!;
      feeds[n.attrs.name] = Array.from({ length: size }, (_, i) => (i % cols === (Math.floor(i / cols) * 3 + 1) % cols ? 1 : 0));
    } else {
      const r = n.op === 'param' ? paramRange : range;
      feeds[n.attrs.name] = uniform(rng, size, -r, r);
    }
  }
  return feeds;
}
