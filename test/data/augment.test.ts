// Augmentation: the integer shifts, and the affine resampling (zoom, rotation, sub-pixel shift)
// checked against values PyTorch computed (F.affine_grid + F.grid_sample, align_corners=False,
// bilinear, zero padding; torch 2.13, float64).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affineAugment, affineResample, shiftAugment } from '../../src/fpet/data/dataset.ts';

// Two channels of a 5×5 image: channel c, pixel j = ((7c + 3j) mod 11) / 10.
const IMAGE = Float32Array.from({ length: 50 }, (_, k) => ((7 * Math.floor(k / 25) + 3 * (k % 25)) % 11) / 10);

test('affineResample: PyTorch affine_grid + grid_sample (z 1.3, 20°, shift (0.12, −0.3))', () => {
  const z = 1.3, r = (20 * Math.PI) / 180;
  const out = new Float32Array(50);
  affineResample(IMAGE, out, 2, 5, [z * Math.cos(r), -z * Math.sin(r), 0.12, z * Math.sin(r), z * Math.cos(r), -0.3]);
  const torch = [
    0.0, 0.0, 0.0, 0.0148127, 0.0, 0.0125828, 0.2667306, 0.8114859, 0.2986558, 0.0, 0.1236353, 0.6456694, 0.6675, 0.6343306, 0.2060873,
    0.2608805, 0.2929044, 0.4452523, 0.9120045, 0.2415296, 0.0, 0.256174, 0.487301, 0.163558, 0.2322331,
    0.0, 0.0, 0.0, 0.1185012, 0.0, 0.1099858, 0.3395106, 0.4347477, 0.4763232, 0.0, 0.3833976, 0.4429737, 0.7075, 0.3950304, 0.1427036,
    0.0960113, 0.5821166, 0.6264919, 0.5895829, 0.4541049, 0.0, 0.5263989, 0.4005046, 0.7670791, 0.1322961,
  ];
  out.forEach((v, i) => assert.ok(Math.abs(v - torch[i]!) < 1e-6, `pixel ${i}: ${v} vs PyTorch ${torch[i]}`));
});

test('affineResample: the identity map returns the image; a shift of one pixel moves it by one pixel', () => {
  const out = new Float32Array(50);
  affineResample(IMAGE, out, 2, 5, [1, 0, 0, 0, 1, 0]);
  out.forEach((v, i) => assert.ok(Math.abs(v - IMAGE[i]!) < 1e-6));
  // Reading the source one pixel to the right (tx = 2/S) shifts the picture one pixel left, zero fill.
  affineResample(IMAGE, out, 2, 5, [1, 0, 2 / 5, 0, 1, 0]);
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++) {
        const want = x < 4 ? IMAGE[c * 25 + y * 5 + x + 1]! : 0;
        assert.ok(Math.abs(out[c * 25 + y * 5 + x]! - want) < 1e-6, `c ${c} (${x}, ${y})`);
      }
    }
  }
});

test('affineAugment: deterministic per (seed, epoch, batch), different across them; plain 1 without shifts is the identity', () => {
  const batch = () => Float32Array.from({ length: 4 * 28 * 28 }, (_, k) => ((k * 37) % 101) / 100);
  const aug = { scale: [0.85, 1.5], rotate: 15, plain: 0.3 } as const;
  const a = batch(), b = batch(), c = batch(), d = batch();
  affineAugment(a, 1, 28, 2, aug, 0, 3, 7);
  affineAugment(b, 1, 28, 2, aug, 0, 3, 7);
  affineAugment(c, 1, 28, 2, aug, 0, 3, 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((v) => v >= 0 && v <= 1), 'bilinear weights keep pixels in [0, 1]');
  affineAugment(d, 1, 28, 0, { scale: [0.85, 1.5], rotate: 15, plain: 1 }, 0, 3, 7);
  const orig = batch();
  d.forEach((v, i) => assert.ok(Math.abs(v - orig[i]!) < 1e-6));
});

test('shiftAugment: whole-pixel shifts with zero fill, deterministic per (seed, epoch, batch)', () => {
  const a = Float32Array.from(IMAGE.subarray(0, 25)), b = Float32Array.from(IMAGE.subarray(0, 25));
  shiftAugment(a, 1, 5, 1, 0, 0, 0);
  shiftAugment(b, 1, 5, 1, 0, 0, 0);
  assert.deepEqual(a, b);
  // Every output pixel is a source pixel or the fill.
  const values = new Set([0, ...IMAGE.subarray(0, 25)]);
  assert.ok([...a].every((v) => values.has(v)));
});
