// The model's input crop (src/fpet/models/input-crop.ts) against values PyTorch computed
// (torch 2.13, F.interpolate with align_corners=False), the graph on the float64 interpreter,
// and the picture helper against the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropAndResize, cropResizeMatrix, croppedView } from '../../src/fpet/models/input-crop.ts';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';

// F.interpolate(v.reshape(1,1,20), size=28, mode='linear', align_corners=False) with v_k = k².
const TORCH_LINEAR_20_TO_28 = [0.0, 0.5714285714, 1.8571428571, 4.0, 7.5714285714, 12.0, 17.2857142857, 23.7142857143, 31.2857142857, 39.7142857143, 49.0, 59.7142857143, 71.2857142857, 83.7142857143, 97.2857142857, 112.0, 127.5714285714, 144.0, 161.8571428571, 180.5714285714, 200.1428571429, 220.8571428571, 242.7142857143, 265.4285714286, 289.0, 314.0, 339.8571428571, 361.0];
// img[y][x] = (28y + x) mod 17; F.interpolate(img[:, :, 4:24, 4:24], size=(28, 28), mode='bilinear', align_corners=False) at these pixels.
const TORCH_BILINEAR_AT: [number, number, number][] = [[0, 0, 14.0], [5, 9, 7.0], [13, 27, 12.1428571429], [27, 27, 4.0], [20, 3, 1.5714285714]];

const image28 = () => Float32Array.from({ length: 28 * 28 }, (_, k) => k % 17);

test('input crop: the resize matrix matches PyTorch bilinear (align_corners=False)', () => {
  const r = cropResizeMatrix(28, 20);
  const v = Array.from({ length: 28 }, (_, k) => (k >= 4 && k < 24 ? (k - 4) ** 2 : 1e9)); // outside the crop: must get weight 0
  for (let i = 0; i < 28; i++) {
    let s = 0, w = 0;
    for (let k = 0; k < 28; k++) { s += r[i * 28 + k]! * v[k]!; w += r[i * 28 + k]!; }
    assert.ok(Math.abs(s - TORCH_LINEAR_20_TO_28[i]!) < 1e-8, `row ${i}: ${s} vs ${TORCH_LINEAR_20_TO_28[i]}`);
    assert.ok(Math.abs(w - 1) < 1e-12, `row ${i} weights sum to ${w}`);
    for (let k = 0; k < 28; k++) if (k < 4 || k >= 24) assert.equal(r[i * 28 + k], 0, `row ${i} reads pixel ${k} outside the crop`);
  }
  // No crop is the identity.
  const id = cropResizeMatrix(28, 28);
  for (let i = 0; i < 28; i++) for (let k = 0; k < 28; k++) assert.equal(id[i * 28 + k], i === k ? 1 : 0);
  assert.throws(() => cropResizeMatrix(28, 29), /crop must be an integer in \[1, 28\]/);
  assert.throws(() => cropResizeMatrix(28, 0), /crop must be an integer in \[1, 28\]/);
});

test('input crop: the graph (float64 interpreter) and the picture helper match PyTorch', () => {
  const b = new GraphBuilder();
  const images = b.input('images', [2, 1, 28, 28]);
  b.output('seen', cropAndResize(b, images, 28, 20));
  const img = image28();
  const both = new Float64Array(2 * 784);
  both.set(img, 0);
  both.set(img.map((x) => 16 - x), 784);
  const seen = evaluate(b.build(), { images: both }).outputs.seen!.data;
  const view = croppedView(img, 1, 28, 20);
  for (const [y, x, want] of TORCH_BILINEAR_AT) {
    assert.ok(Math.abs(seen[y * 28 + x]! - want) < 1e-8, `graph (${y},${x}): ${seen[y * 28 + x]} vs ${want}`);
    assert.ok(Math.abs(seen[784 + y * 28 + x]! - (16 - want)) < 1e-8, `second image (${y},${x})`);
    assert.ok(Math.abs(view[y * 28 + x]! - want) < 1e-4, `picture (${y},${x}): ${view[y * 28 + x]} vs ${want}`);
  }
  assert.equal(croppedView(img, 1, 28, undefined), img);
});
