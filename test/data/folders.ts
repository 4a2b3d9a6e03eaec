// Image folders generated for the tests: a few classes × tens of small images, PNG and JPEG, RGB
// and grey, odd sizes. Each class is a pattern — horizontal stripes, vertical stripes, or a blob —
// in random colours leaning towards one channel per class (red, green, blue), at random phases and
// sizes: learnable by a small ViT, from the colour or (in grey images) the pattern, but not at once.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { encodeTestPng } from '../io/png-encoder.ts';
import { mulberry32 } from '../../src/core/util/random.ts';

/** The patterns of the generated classes, in class order. */
export const PATTERNS = ['hstripes', 'vstripes', 'blob'] as const;

/** One generated picture: RGBA bytes of `pattern` at w × h, colours and phase from `rand`. */
export function picture(pattern: (typeof PATTERNS)[number], w: number, h: number, rand: () => number): Uint8Array {
  const tint = PATTERNS.indexOf(pattern);
  const a = [0, 1, 2].map((c) => Math.min(255, 30 + Math.floor(rand() * 150) + (c === tint ? 70 : 0))), b = a.map((v) => Math.floor(v / 3));
  const bands = 2 + Math.floor(rand() * 2), phase = Math.floor(rand() * 2);
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // stripes: 2 or 3 bands across the image whatever its size, so they survive the resize
      const band = (t: number, n: number) => Math.floor((t / n) * bands + phase) % 2;
      const on = pattern === 'hstripes' ? band(y, h) : pattern === 'vstripes' ? band(x, w) : +(Math.hypot(x - w / 2, y - h / 2) < Math.min(w, h) / 3);
      const c = on ? a : b;
      rgba.set([c[0]! + Math.floor(rand() * 12), c[1]!, c[2]!, 255], 4 * (y * w + x));
    }
  }
  return rgba;
}

/** Writes a picture as RGB JPEG, RGB PNG or grey PNG (by `kind`). */
export function writePicture(path: string, rgba: Uint8Array, w: number, h: number, kind: 'jpeg' | 'png' | 'grey'): void {
  if (kind === 'jpeg') return writeFileSync(path, jpeg.encode({ width: w, height: h, data: rgba }, 92).data);
  const n = w * h;
  const samples = kind === 'png'
    ? Array.from({ length: 3 * n }, (_, q) => rgba[4 * Math.floor(q / 3) + (q % 3)]!)
    : Array.from({ length: n }, (_, p) => Math.round(0.299 * rgba[4 * p]! + 0.587 * rgba[4 * p + 1]! + 0.114 * rgba[4 * p + 2]!));
  writeFileSync(path, encodeTestPng({ width: w, height: h, colorType: kind === 'png' ? 2 : 0, bitDepth: 8, samples }));
}

/** Options of makeFolder. */
export interface FolderSpec {
  /** Images per class in train/ (or in the class folder, flat layout). */
  readonly perClass: number;
  /** Images per class in val/ (0: the flat layout, no train/ or val/). */
  readonly valPerClass: number;
  readonly seed?: number;
  /** Side range of the pictures. */
  readonly sides?: readonly [number, number];
  readonly classes?: readonly string[];
}

/** Generates an image folder; returns the file names written per split and class. */
export function makeFolder(root: string, spec: FolderSpec): { files: string[] } {
  const rand = mulberry32(spec.seed ?? 1);
  const [lo, hi] = spec.sides ?? [9, 40];
  const names = spec.classes ?? PATTERNS;
  const files: string[] = [];
  const splits = spec.valPerClass > 0 ? [['train', spec.perClass], ['val', spec.valPerClass]] as const : [['', spec.perClass]] as const;
  for (const [split, n] of splits) {
    names.forEach((name, k) => {
      const dir = join(root, split, name);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < n; i++) {
        const w = lo + Math.floor(rand() * (hi - lo + 1)), h = lo + Math.floor(rand() * (hi - lo + 1));
        const kind = (['jpeg', 'png', 'grey'] as const)[i % 3]!;
        const file = join(dir, `img${String(i).padStart(3, '0')}.${kind === 'jpeg' ? 'jpg' : 'png'}`);
        writePicture(file, picture(PATTERNS[k % PATTERNS.length]!, w, h, rand), w, h, kind);
        files.push(file);
      }
    });
  }
  return { files };
}
