// The configuration space: random small models over every option a user can set (PET method,
// bits, adapter width and bias, merge none/FPET/ToMe over 1–3 blocks, ratio, ToMe r, batch, image
// and patch size, grey or RGB input and its normalisation, pre-logits with a representation size ≠
// width, training noise). Each one either is rejected by validation — before any graph or GPU
// work, naming the field and the allowed range — or runs forward and backward on the GPU and
// matches the float64 reference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { buildModel, DEFAULT_MERGE, initialWeights, validateSpec, type ModelSpec } from '../../src/fpet/models/model.ts';
import { modelSpecFrom, MODEL_OPTIONS } from '../../src/frontends/cli/model-options.ts';
import { parseArgs } from '../../src/frontends/cli/args.ts';
import { assertClose, runOnGpu } from '../support/gpu.ts';
import { fcParams, rngFrom, uniform } from '../support/random.ts';

const specArb: fc.Arbitrary<ModelSpec> = fc
  .record({
    method: fc.constantFrom('adaptformer', 'lora', 'full', 'linear' as const),
    bits: fc.constantFrom(32 as const, 1 as const),
    adapterDim: fc.integer({ min: 1, max: 5 }),
    bias: fc.boolean(),
    scale: fc.constantFrom(1, 0.5),
    merge: fc.constantFrom('none', 'fpet', 'tome' as const),
    blocks: fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 3 }),
    blockOutside: fc.constantFrom(false, false, false, false, false, true),
    ratio: fc.constantFrom(0.1, 0.25, 0.4, 0.5, 0.6),
    tomeR: fc.integer({ min: 1, max: 6 }),
    batch: fc.integer({ min: 1, max: 3 }),
    patch: fc.integer({ min: 1, max: 3 }),
    grid: fc.integer({ min: 2, max: 5 }),
    misfit: fc.constantFrom(0, 0, 0, 0, 1), // sometimes an image size that is not a multiple of the patch
    heads: fc.integer({ min: 1, max: 2 }),
    headDim: fc.integer({ min: 2, max: 5 }),
    depth: fc.integer({ min: 1, max: 3 }),
    representation: fc.constantFrom(0, 0, 7),
    training: fc.boolean(),
    // The input crop: none, or 1 to 2 pixels off each side; now and then larger than the image (rejected).
    crop: fc.constantFrom(0, 0, 1, 2, -1),
    // Grey or RGB input; the normalisation: none, per-channel values, or now and then a zero std (rejected).
    channels: fc.constantFrom(1, 3),
    normalize: fc.constantFrom('none', 'none', 'values', 'zero-std'),
  })
  .map((c) => ({
    vit: {
      imageSize: c.patch * c.grid + c.misfit, patchSize: c.patch, inChannels: c.channels, dim: c.heads * c.headDim,
      depth: c.depth, heads: c.heads, mlpRatio: 2, numClasses: 3, representationSize: c.representation,
    },
    batch: c.batch,
    pet: { method: c.method, bits: c.bits, dim: c.method === 'adaptformer' || c.method === 'lora' ? c.adapterDim : 0, scale: c.scale, bias: c.bias },
    // Merge blocks inside the depth, and now and then one past it (which must be rejected).
    merge: c.merge === 'none' ? undefined : {
      ...DEFAULT_MERGE, kind: c.merge, ratio: c.ratio, r: c.tomeR, refineDim: 3,
      blocks: [...new Set(c.blocks.map((b, i) => (c.blockOutside && i === 0 ? c.depth : b % c.depth)))],
    },
    training: c.training ? { dropout: 0.1, dropPath: 0.1 } : undefined,
    ...(c.crop === 0 ? {} : { inputCrop: c.patch * c.grid + c.misfit - 2 * c.crop }),
    ...(c.normalize === 'none' ? {} : {
      normalize: { mean: [0.485, 0.456, 0.406].slice(0, c.channels), std: (c.normalize === 'zero-std' ? [0, 0.224, 0.225] : [0.229, 0.224, 0.225]).slice(0, c.channels) },
    }),
  }));

/** A rejection must say what is wrong and what is allowed. */
const RANGE = /(\d+\.\.\d+|>= ?\d|at least|max ratio|min ratio|must be|divide|fewer)/;

function validates(spec: ModelSpec): Error | undefined {
  try {
    validateSpec(spec);
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

test('configuration space (fast-check): every model either is rejected with its range or matches float64 on the GPU', async () => {
  let ran = 0, rejected = 0, cropped = 0, normalised = 0;
  const reasons = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(specArb, fc.integer({ min: 1, max: 1e6 }), async (spec, seed) => {
      const why = validates(spec);
      if (why) {
        assert.match(why.message, RANGE, `rejection without a range: ${why.message}`);
        rejected++;
        const key = why.message.replace(/[\d.]+/g, '#').slice(0, 60);
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
        return;
      }
      const model = buildModel(spec);
      const rng = rngFrom(seed);
      const weights = initialWeights(spec, seed);
      // Weights well above the init scales: distinct tokens, so that no two matching scores tie
      // within f32 rounding (a tie is resolved differently in f32 and f64, legitimately).
      for (const [k, v] of weights) if (!/norm\d?\.weight$/.test(k)) v.set(uniform(rng, v.length, -0.5, 0.5));
      const feeds: Record<string, ArrayLike<number>> = Object.fromEntries(weights);
      feeds.images = uniform(rng, spec.batch * spec.vit.inChannels * spec.vit.imageSize ** 2, 0, 1);
      feeds.onehot = Array.from({ length: spec.batch * 3 }, (_, i) => +(i % 3 === Math.floor(i / 3) % 3));
      if (spec.training) feeds.seed = [seed, 3];
      const graph = model.trainable.length ? gradients(model.graph, { loss: 'loss' }) : model.graph;
      const ref = evaluate(graph, feeds).outputs;
      const { out } = await runOnGpu(graph, feeds);
      for (const name of graph.outputs.keys()) assertClose(`${name} of ${JSON.stringify(spec)}`, out[name]!, ref[name]!.data, 2e-4);
      ran++;
      if (spec.inputCrop !== undefined) cropped++;
      if (spec.normalize !== undefined) normalised++;
    }),
    fcParams(24),
  );
  console.log(`configurations: ${ran} ran on the GPU against float64 (${cropped} with an input crop, ${normalised} normalised), ${rejected} rejected before any GPU work`);
  for (const [k, n] of reasons) console.log(`  rejected ${n}x: ${k}`);
  assert.ok(ran > 0);
});

test('CLI options: every accepted combination validates, or fails naming the option and range', () => {
  const argvArb = fc.record({
    preset: fc.constantFrom('vit-micro', 'vit-mnist'),
    method: fc.constantFrom('adaptformer', 'lora', 'full', 'linear'),
    bits: fc.constantFrom('32', '1', '8'),
    merge: fc.constantFrom('none', 'fpet', 'tome'),
    blocks: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 }),
    ratio: fc.constantFrom('0.05', '0.25', '0.5', '0.51', '1'),
    tomeR: fc.integer({ min: 1, max: 30 }),
    inputCrop: fc.constantFrom(undefined, '0', '6', '20', '28', '29'),
  });
  let ok = 0, bad = 0;
  fc.assert(fc.property(argvArb, (a) => {
    const argv = ['--preset', a.preset, '--method', a.method, '--bits', a.bits, '--merge', a.merge, '--merge-blocks', a.blocks.join(','), '--merge-ratio', a.ratio, '--tome-r', String(a.tomeR), ...(a.inputCrop ? ['--input-crop', a.inputCrop] : [])];
    try {
      const spec = modelSpecFrom(parseArgs('test', argv, MODEL_OPTIONS));
      validateSpec(spec);
      ok++;
    } catch (e) {
      assert.match((e as Error).message, RANGE, (e as Error).message);
      bad++;
    }
  }), fcParams(300));
  console.log(`CLI model options: ${ok} combinations valid, ${bad} rejected with a range`);
});
