// timm's image transforms against independent references written here: PIL's resampling as a
// brute-force sum over every input pixel (the filter is zero outside its support, so PIL's clipped
// tap window gives the same weights), torchvision's Resize / CenterCrop geometry and
// RandomResizedCrop.get_params worked out by hand, Python's round().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  axisWeights, evalGeometry, evalTransform, randomResizedCropBox, resampleWindow, roundHalfEven, timmTransform, trainTransform, validateTransform, type Interpolation,
} from '../../src/fpet/data/transforms.ts';
import type { PlanarImage } from '../../src/core/io/png.ts';
import { fcParams, rngFrom, uniform } from '../support/random.ts';

/** PIL's filters, written from Pillow's Resample.c (bilinear: triangle; bicubic: Keys, a = -0.5). */
const filter = (kind: Interpolation, x: number): number => {
  const t = Math.abs(x);
  if (kind === 'bilinear') return t < 1 ? 1 - t : 0;
  const a = -0.5;
  return t < 1 ? (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1 : t < 2 ? a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a : 0;
};

/** Reference: output sample k of resizing `src` (n samples) to m, every input sample weighed. */
function resize1d(src: readonly number[], m: number, kind: Interpolation, k: number): number {
  const n = src.length, scale = n / m, fs = Math.max(1, scale);
  const center = (k + 0.5) * scale;
  let s = 0, w = 0;
  for (let x = 0; x < n; x++) {
    const f = filter(kind, (x + 0.5 - center) / fs);
    s += f * src[x]!;
    w += f;
  }
  return s / w;
}

test('round() as Python: halves to even', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4999, 2.5001].map((v) => roundHalfEven(v) + 0), [0, 2, 2, 4, 0, -2, 2, 3]);
});

test('PIL bilinear 4 -> 2 by hand: weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7', () => {
  const w = axisWeights(4, 2, 'bilinear');
  assert.deepEqual([...w.start], [0, 1]);
  assert.deepEqual([...w.taps], [3, 3]);
  const row = (k: number) => [...w.weights.subarray(k * w.stride, k * w.stride + 3)];
  for (const [got, want] of [[row(0), [3 / 7, 3 / 7, 1 / 7]], [row(1), [1 / 7, 3 / 7, 3 / 7]]] as const) got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-15));
  // [0, 10, 20, 30] -> [50/7, 160/7] (PIL gives 7 and 23 after rounding to 8 bits)
  const img: PlanarImage = { width: 4, height: 1, channels: 1, pixels: Float32Array.of(0, 10, 20, 30) };
  const out = resampleWindow(img, { x: 0, y: 0, w: 4, h: 1 }, { w: 2, h: 1 }, { x: 0, y: 0, w: 2, h: 1 }, 'bilinear');
  assert.ok(Math.abs(out[0]! - 50 / 7) < 1e-5 && Math.abs(out[1]! - 160 / 7) < 1e-5, `${out}`);
});

test('PIL bicubic 2 -> 4 by hand: the first output reads 1.0882… of pixel 0 and -0.0882… of pixel 1', () => {
  const w = axisWeights(2, 4, 'bicubic');
  // centre 0.25: taps at distances 0.25 and 1.25: 0.8671875 and -0.0703125, normalised by their sum 0.796875
  assert.equal(w.taps[0], 2);
  assert.ok(Math.abs(w.weights[0]! - 0.8671875 / 0.796875) < 1e-15);
  assert.ok(Math.abs(w.weights[1]! + 0.0703125 / 0.796875) < 1e-15);
});

test('eval geometry as timm + torchvision: shorter side to floor(size / crop_pct), int() for the longer, round-half-even offsets', () => {
  assert.deepEqual(evalGeometry(500, 375, 224, 0.875), { w: 341, h: 256, left: 58, top: 16 }); // (341-224)/2 = 58.5 -> 58
  assert.deepEqual(evalGeometry(375, 500, 224, 0.875), { w: 256, h: 341, left: 16, top: 58 });
  assert.deepEqual(evalGeometry(224, 224, 224, 1), { w: 224, h: 224, left: 0, top: 0 });
  assert.deepEqual(evalGeometry(640, 480, 224, 0.9), { w: 330, h: 248, left: 53, top: 12 }); // floor(248.9) = 248; int(248·640/480) = 330
  assert.deepEqual(evalGeometry(13, 9, 8, 0.875), { w: 13, h: 9, left: 2, top: 0 }); // floor(9.14) = 9: int(9·13/9) = 13; (13-8)/2 = 2.5 -> 2
});

test('eval transform of a half-red, half-blue picture: the centre crop straddles the edge where the geometry says', () => {
  // 448×224, crop_pct 1: no resize (shorter side already 224), crop columns 112..335: left half red, right half blue.
  const W = 448, H = 224, plane = W * H;
  const px = new Float32Array(3 * plane);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[(x < 224 ? 0 : 2) * plane + y * W + x] = 1;
  const out = evalTransform({ width: W, height: H, channels: 3, pixels: px }, { size: 224, cropPct: 1, interpolation: 'bicubic' });
  const at = (c: number, y: number, x: number) => out[c * 224 * 224 + y * 224 + x]!;
  assert.equal(at(0, 10, 0), 1);
  assert.equal(at(2, 10, 0), 0);
  assert.equal(at(0, 100, 111), 1);
  assert.equal(at(2, 100, 112), 1);
  assert.equal(at(0, 223, 223), 0);
});

test('property (fast-check): any crop, resize and window equals the brute-force PIL reference, in both filters, flipped or not', () => {
  fc.assert(fc.property(
    fc.record({
      w: fc.integer({ min: 1, max: 24 }), h: fc.integer({ min: 1, max: 24 }), fw: fc.integer({ min: 1, max: 30 }), fh: fc.integer({ min: 1, max: 30 }),
      kind: fc.constantFrom<Interpolation>('bilinear', 'bicubic'), flip: fc.boolean(), seed: fc.integer({ min: 1, max: 1e6 }),
      box: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), win: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()),
    }),
    (c) => {
      const rng = rngFrom(c.seed);
      const img: PlanarImage = { width: c.w, height: c.h, channels: 1, pixels: Float32Array.from(uniform(rng, c.w * c.h, 0, 1)) };
      const bx = c.box[0] % c.w, by = c.box[1] % c.h, bw = 1 + (c.box[2] % (c.w - bx)), bh = 1 + (c.box[3] % (c.h - by));
      const ox = c.win[0] % c.fw, oy = c.win[1] % c.fh, ow = 1 + (c.win[2] % (c.fw - ox)), oh = 1 + (c.win[3] % (c.fh - oy));
      const got = resampleWindow(img, { x: bx, y: by, w: bw, h: bh }, { w: c.fw, h: c.fh }, { x: ox, y: oy, w: ow, h: oh }, c.kind, c.flip);
      // Reference: crop, resize rows then columns over every pixel, take the window, mirror it.
      const crop = Array.from({ length: bh }, (_, y) => Array.from({ length: bw }, (_, x) => img.pixels[(by + y) * c.w + bx + x]!));
      const rows = crop.map((r) => Array.from({ length: c.fw }, (_, k) => resize1d(r, c.fw, c.kind, k)));
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const col = rows.map((r) => r[ox + x]!);
          const want = resize1d(col, c.fh, c.kind, oy + y);
          const g = got[y * ow + (c.flip ? ow - 1 - x : x)]!;
          assert.ok(Math.abs(g - want) < 1e-5, `(${x}, ${y}) of ${JSON.stringify(c)}: ${g} vs ${want}`);
        }
      }
    },
  ), fcParams(200));
});

/** A scripted stand-in for torch's uniform draws. */
const draws = (...v: number[]) => () => {
  const x = v.shift();
  assert.ok(x !== undefined, 'more draws than scripted');
  return x;
};

test('RandomResizedCrop.get_params by hand: a rejected try, an accepted one, and the fallback', () => {
  // 100×50: try 1: area 5000·(0.08 + 0.92·0.5) = 2700, aspect 1 -> 52×52 > 50 high: rejected.
  // try 2: area 400, aspect 1 -> 20×20; top = floor(0.5·31) = 15, left = floor(0.99·81) = 80.
  assert.deepEqual(randomResizedCropBox(100, 50, [0.08, 1], [3 / 4, 4 / 3], draws(0.5, 0.5, 0, 0.5, 0.5, 0.99)), { x: 80, y: 15, w: 20, h: 20 });
  // 100×10 with scale (1, 1): every try needs a height of at least 27 -> fallback: ratio 10 > 4/3, so
  // h = 10, w = round(13.33) = 13, centred: x = (100 - 13) // 2 = 43.
  const tries = Array.from({ length: 20 }, (_, i) => (i % 2 ? 0.5 : 0.3));
  assert.deepEqual(randomResizedCropBox(100, 10, [1, 1], [3 / 4, 4 / 3], draws(...tries)), { x: 43, y: 0, w: 13, h: 10 });
});

test('property (fast-check): the random crop lies inside the image, and an accepted crop has the scale and aspect asked for', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 400 }), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 1, max: 1e6 }),
    (w, h, s0, s1, seed) => {
      const scale = [Math.min(s0, s1), Math.max(s0, s1)] as const;
      const b = randomResizedCropBox(w, h, scale, [3 / 4, 4 / 3], rngFrom(seed));
      assert.ok(b.w >= 1 && b.h >= 1 && b.x >= 0 && b.y >= 0 && b.x + b.w <= w && b.y + b.h <= h, JSON.stringify({ w, h, b }));
      const centred = b.x === Math.floor((w - b.w) / 2) && b.y === Math.floor((h - b.h) / 2);
      if (!centred && w * h > 100) {
        // sqrt(area · r) and sqrt(area / r) rounded: the area is within half a pixel per side of the target
        const area = b.w * b.h, lo = scale[0] * w * h, hi = scale[1] * w * h;
        const slack = (Math.sqrt(hi) + 1) * 2;
        assert.ok(area >= lo - slack && area <= hi + slack, JSON.stringify({ w, h, b, scale }));
      }
    },
  ), fcParams(500));
});

test('train transform: without the random crop it is the eval transform, mirrored when the flip is drawn', () => {
  const rng = rngFrom(3);
  const img: PlanarImage = { width: 19, height: 11, channels: 3, pixels: Float32Array.from(uniform(rng, 3 * 19 * 11, 0, 1)) };
  const t = { ...timmTransform(8), randomCrop: false };
  const plain = evalTransform(img, t);
  assert.deepEqual(trainTransform(img, t, () => 0.7), plain);
  const flipped = trainTransform(img, t, () => 0.2);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) assert.equal(flipped[c * 64 + y * 8 + x], plain[c * 64 + y * 8 + 7 - x]);
  assert.deepEqual(trainTransform(img, { ...t, hflip: false }, () => 0.2), plain);
});

test('transform options out of range are refused, naming the field and the range', () => {
  assert.throws(() => validateTransform({ ...timmTransform(224), cropPct: 1.5 }), /crop pct must be in \[0\.05, 1\]/);
  assert.throws(() => validateTransform({ ...timmTransform(224), scale: [0.5, 0.2] }), /scale must be MIN,MAX/);
  assert.throws(() => validateTransform({ ...timmTransform(224), interpolation: 'nearest' as Interpolation }), /bilinear or bicubic/);
});
