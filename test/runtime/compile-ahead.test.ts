// Compiling ahead (src/core/runtime/compile-ahead.ts): kernels shared out evenly over the devices,
// warm-up leaves every parameter and output untouched, and a program whose kernels were compiled on
// helper devices computes what the float64 reference does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { balancedShares } from '../../src/core/runtime/compile-ahead.ts';
import { compile } from '../../src/core/runtime/program.ts';
import { buildModel, initialWeights } from '../../src/fpet/models/model.ts';
import { modelSpecOf } from '../../src/fpet/models/model-choices.ts';
import { withAdamW } from '../../src/fpet/train/optimizer.ts';
import { assertClose, gpu } from '../support/gpu.ts';

test('balancedShares: every kernel in exactly one share, loads within one kernel of each other', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (lengths, parts) => {
    const kernels = lengths.map((n, i) => ({ code: 'x'.repeat(n), id: i }));
    const shares = balancedShares(kernels, parts);
    assert.equal(shares.length, parts);
    assert.deepEqual(shares.flat().map((k) => k.id).sort((a, b) => a - b), kernels.map((k) => k.id));
    const loads = shares.map((s) => s.reduce((a, k) => a + k.code.length, 0));
    // Longest first onto the least loaded: the spread never exceeds the longest kernel.
    assert.ok(Math.max(...loads) - Math.min(...loads) <= Math.max(0, ...lengths), `loads ${loads}`);
  }), { numRuns: 200 });
});

/** A vit-micro AdaptFormer + FPET model (merge in block 1) at batch 2. */
function microFpet() {
  const spec = modelSpecOf({ preset: 'vit-micro', method: 'adaptformer', bits: 32, adapterScale: 1, adapterBias: false, merge: 'fpet', mergeBlocks: [1], mergeRatio: 0.5, tomeR: 1, batch: 2 });
  const model = buildModel(spec);
  const feeds: Record<string, Float32Array> = Object.fromEntries(initialWeights(spec, 5));
  feeds.images = Float32Array.from({ length: 2 * 64 }, (_, i) => ((i * 37) % 101) / 101);
  feeds.onehot = Float32Array.from({ length: 2 * 5 }, (_, i) => (i % 5 === i % 3 ? 1 : 0));
  return { model, feeds };
}

test('where the adapter compiles on first dispatch, helper devices exist (one per spare core)', async () => {
  const ctx = await gpu();
  if (!ctx.compileHelpers) return; // drivers that compile at pipeline creation have none
  const helpers = await ctx.compileHelpers();
  const cores = (await import('node:os')).availableParallelism();
  assert.equal(helpers.length, Math.min(cores - 1, 3));
  assert.equal(await ctx.compileHelpers(), helpers, 'created once');
});

test('warm-up reads and writes nothing of the program: a training step\'s parameters, moments and outputs stay as written', async () => {
  const ctx = await gpu();
  const { model, feeds } = microFpet();
  const { graph, writeBack } = withAdamW(gradients(model.graph, { loss: 'loss' }), model.trainable);
  const program = await compile(graph, ctx, { writeBack });
  try {
    for (const p of graph.params) feeds[p.attrs.name] ??= Float32Array.from({ length: p.type.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.01 * (i % 7));
    feeds.hyper = new Float32Array(graph.inputs.find((n) => n.attrs.name === 'hyper')!.type.shape.reduce((a, b) => a * b, 1)).fill(0.5);
    program.write(feeds);
    const names = [...graph.params.map((p) => p.attrs.name), ...graph.outputs.keys()];
    const before = await program.read(names);
    await program.warmup();
    const after = await program.read(names);
    for (const name of names) assert.deepEqual([...after[name]!], [...before[name]!], name);
    assert.deepEqual(ctx.takeErrors(), []);
  } finally {
    program.destroy();
  }
});

test('a program compiled ahead (helpers included) computes the forward and backward of float64', async () => {
  const ctx = await gpu();
  const { model, feeds } = microFpet();
  const graph = gradients(model.graph, { loss: 'loss' });
  const program = await compile(graph, ctx);
  try {
    await program.warmup();
    const out = await program.execute(feeds);
    const ref = evaluate(graph, feeds).outputs;
    for (const name of graph.outputs.keys()) assertClose(name, out[name]!, ref[name]!.data, 2e-4);
    assert.deepEqual(ctx.takeErrors(), []);
  } finally {
    program.destroy();
  }
});
