// transfer and sweep fill in two choices the user did not make: MNIST's 20×20 input crop and, on
// vit-mnist, width-32 32-bit adapters. What the user passes always wins; nothing else is touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArgs } from '../../src/frontends/cli/args.ts';
import { TRANSFER_OPTIONS, trainOptionsFrom } from '../../src/frontends/cli/train-options.ts';
import { mainJobModel, multiRunDefaults } from '../../src/fpet/recipes/main-job.ts';

const args = fc.record({
  dataset: fc.constantFrom('mnist', 'fashion-mnist', 'cifar10'),
  preset: fc.constantFrom('vit-mnist', 'vit-ti16', 'vit-b16'),
  method: fc.constantFrom('adaptformer', 'lora', 'full', 'linear'),
  bits: fc.constantFrom(32, 1),
  inputCrop: fc.option(fc.integer({ min: 1, max: 28 }), { nil: undefined }),
  adapterDim: fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
});

test('multiRunDefaults: explicit values are kept; the crop only on MNIST, width 32 only for 32-bit AdaptFormer/LoRA on vit-mnist', () => {
  fc.assert(fc.property(args, (a) => {
    const d = multiRunDefaults(a);
    assert.equal(d.inputCrop, a.inputCrop ?? (a.dataset === 'mnist' ? 20 : undefined));
    const widened = a.preset === 'vit-mnist' && a.bits === 32 && (a.method === 'adaptformer' || a.method === 'lora');
    assert.equal(d.adapterDim, a.adapterDim ?? (widened ? 32 : undefined));
  }));
});

test('the main job\'s model: width-32 adapters, no adapter dropout, unless asked otherwise', () => {
  const specOf = (argv: string[]) => {
    const parsed = parseArgs('transfer', argv, TRANSFER_OPTIONS);
    return trainOptionsFrom({ ...parsed, ...multiRunDefaults(parsed), merge: 'none' });
  };
  const main = specOf([]);
  assert.equal(main.spec.pet.dim, 32);
  assert.equal(main.dropout, 0);
  const narrow = specOf(['--adapter-dim', '8', '--dropout', '0.1']);
  assert.equal(narrow.spec.pet.dim, 8);
  assert.equal(narrow.dropout, 0.1);
  assert.equal(specOf(['--bits', '1']).spec.pet.dim, 32, '1-bit adapters keep their own default width');
});

test('transfer\'s defaults build exactly the recipe\'s models (what the benchmarks time)', () => {
  const parsed = parseArgs('transfer', [], TRANSFER_OPTIONS);
  const a = { ...parsed, ...multiRunDefaults(parsed) };
  for (const method of ['adaptformer', 'fpet'] as const) {
    const o = trainOptionsFrom({ ...a, merge: method === 'fpet' ? 'fpet' : 'none' });
    assert.deepEqual({ ...o.spec, training: { dropout: o.dropout, dropPath: o.dropPath } }, mainJobModel(method, a.batch, true));
  }
  assert.deepEqual(mainJobModel('tome').merge, { ...mainJobModel('fpet').merge, kind: 'tome', blocks: [0, 1, 2, 3, 4], r: 5 }, 'ToMe removes FPET\'s 25 tokens, r = 5 in blocks 0-4');
});

test('transfer on a 12-block preset (an image folder) merges in its middle block, 6, as train does', () => {
  const parsed = parseArgs('transfer', ['--preset', 'vit-b16', '--data', 'flowers'], TRANSFER_OPTIONS);
  const o = trainOptionsFrom({ ...parsed, ...multiRunDefaults(parsed), merge: 'fpet' });
  assert.deepEqual(o.spec.merge?.blocks, [6]);
  assert.equal(o.spec.inputCrop, undefined, 'no MNIST digit box on an image folder');
  assert.equal(o.spec.vit.inChannels, 3);
  assert.deepEqual(o.spec.normalize, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
});
