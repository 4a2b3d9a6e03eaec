// Class-stratified splits by labels alone (no pixels): what an image folder is split and sampled
// with before anything is decoded. Proportional rather than class-balanced (makeSplits in
// ./dataset.ts draws the same count from every class, which MNIST's balanced classes allow): a
// folder's classes may hold very different numbers of images, and each keeps its share.
// Deterministic: every draw is keyed by the seed and the class. Universal.

import { keyedRng } from '../../core/util/random.ts';

/** Streams of the folder draws (distinct from dataset.ts's). */
const HOLDOUT_STREAM = 11;
const SAMPLE_STREAM = 12;

function shuffled(a: number[], rand: () => number): number[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Positions of `labels` grouped by class 0..classes-1, in order. */
export function byClass(labels: ArrayLike<number>, classes: number): number[][] {
  const out: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) out[labels[i]!]!.push(i);
  return out;
}

/**
 * Holds out `fraction` of every class (round(fraction · n), keeping at least one image of a class
 * for training), drawn with `seed`: the positions of the training and held-out images, sorted.
 */
export function holdOut(labels: ArrayLike<number>, classes: number, fraction: number, seed: number): { train: number[]; held: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`holdOut: fraction must be in (0, 1) (got ${fraction})`);
  const train: number[] = [], held: number[] = [];
  byClass(labels, classes).forEach((members, k) => {
    const n = Math.min(members.length - 1, Math.round(fraction * members.length));
    const order = shuffled([...members], keyedRng(seed, HOLDOUT_STREAM, k));
    held.push(...order.slice(0, Math.max(0, n)));
    train.push(...order.slice(Math.max(0, n)));
  });
  return { train: train.sort((a, b) => a - b), held: held.sort((a, b) => a - b) };
}

/**
 * `size` of the positions `pool`, stratified: each class gets its share of `size` in proportion to
 * its images in the pool (largest remainders first, ties to the lower class), drawn with `seed`.
 * Sorted. `size` above the pool is an error naming both.
 */
export function sampleStratified(labels: ArrayLike<number>, classes: number, pool: readonly number[], size: number, seed: number, what: string): number[] {
  if (size > pool.length) throw new Error(`${what}: ${size} images asked for, but only ${pool.length} are available`);
  if (size === pool.length) return [...pool].sort((a, b) => a - b);
  const groups = byClass(Array.from(pool, (i) => labels[i]!), classes).map((g) => g.map((j) => pool[j]!));
  const exact = groups.map((g) => (g.length * size) / pool.length);
  const want = exact.map(Math.floor);
  const order = exact.map((e, k) => [e - Math.floor(e), k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = 0, left = size - want.reduce((a, b) => a + b, 0); r < left; r++) want[order[r]![1]]! += 1;
  const out: number[] = [];
  groups.forEach((g, k) => out.push(...shuffled([...g], keyedRng(seed, SAMPLE_STREAM, k)).slice(0, want[k])));
  return out.sort((a, b) => a - b);
}
