// Data sets as plain arrays, and what training does with them: deterministic class-balanced
// train/test splits, batches in a seeded order, and augmentation. Nothing here touches files, so
// it runs unchanged in Node, Deno and browsers (loaders: src/fpet/data/mnist.ts for Node and Deno, the
// web page's static assets in browsers).

import { keyedRng } from '../../core/util/random.ts';

/**
 * Side of the box every MNIST digit was size-normalised into (LeCun's preprocessing, then centred in
 * the 28×28 frame by its centre of mass). Fashion-MNIST objects fill the whole frame instead. Here
 * rather than in mnist.ts so that the web page (drawing pad, model spec) can use it.
 */
export const MNIST_DIGIT_BOX = 20;

/** Images as [N, C, S, S] pixels in [0, 1] (no mean/std normalisation: the FPET recipe), with labels. */
export interface Dataset {
  readonly name: string;
  /** N × C × S × S pixels. Shared by every caller: do not modify. */
  readonly images: Float32Array;
  /** N labels in 0..classes.length-1. */
  readonly labels: Int32Array;
  readonly classes: readonly string[];
  readonly count: number;
  /** S: images are square. */
  readonly imageSize: number;
  readonly channels: number;
  /** Indices of the data set's official test set, when it has one (MNIST's 10,000). */
  readonly officialTest?: Int32Array;
}

const pixelsOf = (ds: Dataset) => ds.channels * ds.imageSize * ds.imageSize;
// ---------------------------------------------------------------------------------------------
// Deterministic randomness

const rng = keyedRng;

function shuffleInPlace(a: Int32Array, rand: () => number): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

function checkInt(what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new Error(`${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

// Purposes, so that the test draw, the train draw and the batch order never share a stream.
const TEST_STREAM = 1;
const TRAIN_STREAM = 2;
const BATCH_STREAM = 3;
const AUGMENT_STREAM = 4;

// ---------------------------------------------------------------------------------------------
// Splits

/** A subset of a data set: indices into its images/labels. */
export interface Subset {
  dataset: Dataset;
  indices: Int32Array;
}

/** Options of makeSplits: sizes and seeds of the train and test sets. */
export interface SplitOptions {
  /** Training images (default 1000, VTAB-1k style). */
  trainSize?: number;
  /**
   * Test images. With an official test set (MNIST): all of it by default, else a class-balanced
   * sample of it; otherwise held out from all images (default min(10000, ⌊N/5⌋)).
   */
  testSize?: number;
  /** Chooses the training images. */
  seed: number;
  /** Chooses the test images (default 0). Keep it fixed to compare runs with different seeds. */
  testSeed?: number;
}

/** A train set and a held-out test set of one data set, disjoint. */
export interface Splits {
  train: Subset;
  test: Subset;
}

/** Picks `size` indices from `pool`, class-balanced: floor(size/K) per class, with the remainder
 *  going one each to classes in random order. Returns them sorted (callers shuffle per epoch). */
function stratified(ds: Dataset, pool: Int32Array, size: number, rand: () => number, what: string): Int32Array {
  const K = ds.classes.length;
  const byClass: number[][] = Array.from({ length: K }, () => []);
  for (const i of pool) byClass[ds.labels[i]!]!.push(i);
  const want = new Array<number>(K).fill(Math.floor(size / K));
  const order = shuffleInPlace(Int32Array.from({ length: K }, (_, k) => k), rand);
  for (let r = 0; r < size % K; r++) want[order[r]!]! += 1;
  const out: number[] = [];
  for (let k = 0; k < K; k++) {
    const have = byClass[k]!;
    if (have.length < want[k]!) throw new Error(`${what}: class ${k} (${ds.classes[k]}) needs ${want[k]} images but only ${have.length} are available in ${ds.name}`);
    const picked = shuffleInPlace(Int32Array.from(have), rand);
    for (let j = 0; j < want[k]!; j++) out.push(picked[j]!);
  }
  return Int32Array.from(out).sort();
}

/**
 * Deterministic, class-balanced train/test splits. The test set depends only on (dataset, testSize,
 * testSeed), never on `seed`, so it is held out from the train set of every seed; the train set is
 * drawn from the remaining images with `seed`. Both are stratified: each class gets ⌊size/K⌋ images,
 * and the remaining size mod K go to distinct randomly chosen classes. Indices are sorted.
 */
export function makeSplits(ds: Dataset, options: SplitOptions): Splits {
  const official = ds.officialTest;
  const trainSize = checkInt('makeSplits: trainSize', options.trainSize ?? 1000, 1);
  const testSize = checkInt('makeSplits: testSize', options.testSize ?? (official ? official.length : Math.min(10000, Math.floor(ds.count / 5))), 0);
  const seed = checkInt('makeSplits: seed', options.seed, -(2 ** 31));
  const testSeed = checkInt('makeSplits: testSeed', options.testSeed ?? 0, -(2 ** 31));
  const all = Int32Array.from({ length: ds.count }, (_, i) => i);
  let test: Int32Array;
  if (official) {
    if (testSize > official.length) throw new Error(`makeSplits: testSize ${testSize} is more than the ${official.length} images of ${ds.name}'s official test set`);
    if (trainSize > ds.count - official.length) throw new Error(`makeSplits: trainSize ${trainSize} is more than the ${ds.count - official.length} images of ${ds.name}'s official training set`);
    test = testSize === official.length ? Int32Array.from(official) : stratified(ds, official, testSize, rng(testSeed, TEST_STREAM, testSize), 'makeSplits: testSize');
    const inOfficial = new Uint8Array(ds.count);
    for (const i of official) inOfficial[i] = 1;
    const pool = all.filter((i) => !inOfficial[i]);
    const train = stratified(ds, pool, trainSize, rng(seed, TRAIN_STREAM, testSeed, testSize), 'makeSplits: trainSize');
    return { train: { dataset: ds, indices: train }, test: { dataset: ds, indices: test } };
  }
  if (trainSize + testSize > ds.count) throw new Error(`makeSplits: trainSize ${trainSize} + testSize ${testSize} = ${trainSize + testSize} is more than the ${ds.count} images of ${ds.name}`);
  test = stratified(ds, all, testSize, rng(testSeed, TEST_STREAM, testSize), 'makeSplits: testSize');
  const inTest = new Uint8Array(ds.count);
  for (const i of test) inTest[i] = 1;
  const pool = all.filter((i) => !inTest[i]);
  const train = stratified(ds, pool, trainSize, rng(seed, TRAIN_STREAM, testSeed, testSize), 'makeSplits: trainSize');
  return { train: { dataset: ds, indices: train }, test: { dataset: ds, indices: test } };
}

// ---------------------------------------------------------------------------------------------
// Batches

/** Options of batches: order and whether a short last batch is kept. */
export interface BatchOptions {
  /** Shuffle the order (default false: subset order). */
  shuffle?: boolean;
  /** With `epoch`, determines the shuffled order (default 0). */
  seed?: number;
  epoch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** One batch, copied out of the data set: B = `size` images with their labels, one-hot targets and indices. */
export interface Batch {
  /** [B, C, S, S] */
  images: Float32Array;
  /** [B] */
  labels: Int32Array;
  /** [B, K] */
  oneHot: Float32Array;
  /** [B] indices into the data set. */
  indices: Int32Array;
  size: number;
}

/** How many batches `batches` yields. */
export function batchCount(subset: Subset, batchSize: number, dropLast = false): number {
  checkInt('batchSize', batchSize, 1);
  const n = subset.indices.length;
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** Yields batches of a subset; the order depends only on (seed, epoch) when shuffling. */
export function* batches(subset: Subset, batchSize: number, options: BatchOptions = {}): Generator<Batch> {
  checkInt('batches: batchSize', batchSize, 1);
  const { shuffle = false, dropLast = false } = options;
  const seed = checkInt('batches: seed', options.seed ?? 0, -(2 ** 31));
  const epoch = checkInt('batches: epoch', options.epoch ?? 0, 0);
  const ds = subset.dataset;
  const K = ds.classes.length;
  const PIXELS = pixelsOf(ds);
  const order = Int32Array.from(subset.indices);
  if (shuffle) shuffleInPlace(order, rng(seed, BATCH_STREAM, epoch));
  const count = batchCount(subset, batchSize, dropLast);
  for (let b = 0; b < count; b++) {
    const indices = order.slice(b * batchSize, Math.min(order.length, (b + 1) * batchSize));
    const B = indices.length;
    const images = new Float32Array(B * PIXELS);
    const labels = new Int32Array(B);
    const oneHot = new Float32Array(B * K);
    for (let r = 0; r < B; r++) {
      const i = indices[r]!;
      images.set(ds.images.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS);
      labels[r] = ds.labels[i]!;
      oneHot[r * K + labels[r]!] = 1;
    }
    yield { images, labels, oneHot, indices, size: B };
  }
}

// ---------------------------------------------------------------------------------------------
// Augmentation

/**
 * Random translation by up to `maxShift` pixels in each direction (zero fill), per image, drawn
 * from (seed, epoch, batch index) so that a resumed run sees exactly the same images. In place on
 * a batch's images [B, C, S, S]. (For digits and clothes: a crop of a padded image, the usual
 * augmentation of small grey-scale data sets.)
 */
export function shiftAugment(images: Float32Array, channels: number, size: number, maxShift: number, seed: number, epoch: number, batchIndex: number): void {
  if (maxShift <= 0) return;
  const plane = size * size, per = channels * plane;
  const B = images.length / per;
  const rand = rng(seed, AUGMENT_STREAM, epoch, batchIndex);
  const src = new Float32Array(per);
  for (let b = 0; b < B; b++) {
    const dx = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
    const dy = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
    if (dx === 0 && dy === 0) continue;
    const img = images.subarray(b * per, (b + 1) * per);
    src.set(img);
    img.fill(0);
    for (let c = 0; c < channels; c++) {
      for (let y = Math.max(0, dy); y < Math.min(size, size + dy); y++) {
        const from = c * plane + (y - dy) * size;
        const to = c * plane + y * size;
        for (let x = Math.max(0, dx); x < Math.min(size, size + dx); x++) img[to + x] = src[from + x - dx]!;
      }
    }
  }
}

/** Random zoom and rotation on top of the shifts (affineAugment). */
export interface AffineAugment {
  /**
   * The sampling grid's scale, drawn uniformly from [min, max]: above 1 the picture shows more of
   * its surroundings, so the object shrinks (zoom out); below 1 it grows (zoom in).
   */
  readonly scale: readonly [number, number];
  /** Rotation drawn uniformly from [−rotate, rotate] degrees. */
  readonly rotate: number;
  /** Fraction of the images left unzoomed and unrotated (they are still shifted). */
  readonly plain: number;
}

/** The allowed ranges of AffineAugment's fields (the CLI's options and their checks use these). */
export const AFFINE_AUGMENT_LIMITS = { scale: [0.5, 2], rotate: [0, 180], plain: [0, 1] } as const;

/**
 * Resamples one [C, S, S] image through the affine map `theta` (2×3, row-major) in normalised
 * coordinates, bilinear, zeros outside: output pixel (x, y) at normalised (u, v) = ((2x+1)/S − 1,
 * (2y+1)/S − 1) reads the source at theta · (u, v, 1). The conventions of PyTorch's
 * F.affine_grid + F.grid_sample with align_corners=False, padding zeros.
 */
export function affineResample(src: Float32Array, dst: Float32Array, channels: number, size: number, theta: readonly number[]): void {
  const plane = size * size;
  const [a, b, tx, c, d, ty] = theta as [number, number, number, number, number, number];
  const at = (base: number, x: number, y: number) => (x < 0 || y < 0 || x >= size || y >= size ? 0 : src[base + y * size + x]!);
  for (let y = 0; y < size; y++) {
    const v = (2 * y + 1) / size - 1;
    for (let x = 0; x < size; x++) {
      const u = (2 * x + 1) / size - 1;
      const px = ((a * u + b * v + tx + 1) * size - 1) / 2;
      const py = ((c * u + d * v + ty + 1) * size - 1) / 2;
      const x0 = Math.floor(px), y0 = Math.floor(py), wx = px - x0, wy = py - y0;
      for (let ch = 0; ch < channels; ch++) {
        const base = ch * plane;
        dst[base + y * size + x] =
          (1 - wy) * ((1 - wx) * at(base, x0, y0) + wx * at(base, x0 + 1, y0)) +
          wy * ((1 - wx) * at(base, x0, y0 + 1) + wx * at(base, x0 + 1, y0 + 1));
      }
    }
  }
}

/**
 * Random zoom, rotation and sub-pixel shift per image, in place on a batch's images [B, C, S, S],
 * drawn from (seed, epoch, batch index) like shiftAugment. Each image gets a grid scale z and an
 * angle r (none for the `plain` fraction) and a translation of up to `maxShift` pixels plus the
 * margin a zoom-out leaves (z − 1 in normalised units). Pre-training with it gives features that
 * carry over to other image statistics (a Fashion-MNIST backbone tuned on MNIST digits: README).
 */
export function affineAugment(images: Float32Array, channels: number, size: number, maxShift: number, aug: AffineAugment, seed: number, epoch: number, batchIndex: number): void {
  const per = channels * size * size;
  const B = images.length / per;
  const rand = rng(seed, AUGMENT_STREAM, epoch, batchIndex);
  const src = new Float32Array(per);
  const [zMin, zMax] = aug.scale;
  for (let i = 0; i < B; i++) {
    const plain = rand() < aug.plain;
    const z = plain ? 1 : zMin + rand() * (zMax - zMin);
    const r = plain ? 0 : (rand() * 2 - 1) * aug.rotate * Math.PI / 180;
    const lim = Math.max(0, z - 1) + 2 * maxShift / size;
    const tx = (rand() * 2 - 1) * lim, ty = (rand() * 2 - 1) * lim;
    const img = images.subarray(i * per, (i + 1) * per);
    src.set(img);
    affineResample(src, img, channels, size, [z * Math.cos(r), -z * Math.sin(r), tx, z * Math.sin(r), z * Math.cos(r), ty]);
  }
}
