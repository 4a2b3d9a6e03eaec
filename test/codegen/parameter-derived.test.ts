// Work computed from parameters only (codegen/parameter-derived.ts): such kernels are launched
// first, in dispatches of their own whose outputs keep their values between steps, and a Program
// runs them only after a parameter they read was written — by write(), or by a training step's
// write-back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { evaluate, type Feeds } from '../../src/core/ir/interpret.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { compileGraph, dispatchesPerStep } from '../../codegen/compile.ts';
import { parameterDerived, type KernelAccess } from '../../codegen/parameter-derived.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { quantize1bit } from '../../src/fpet/models/pet.ts';
import { withAdamW } from '../../src/fpet/train/optimizer.ts';
import { assertClose, gpu } from '../support/gpu.ts';
import { randomFeeds } from '../support/random.ts';

const access = (reads: number[], writes: number[]): KernelAccess => ({ reads: new Set(reads), writes: new Set(writes) });

test('parameterDerived: chains from parameters, not inputs; a tensor with another writer, and its readers, are not derived', () => {
  // Tensors 0, 1: parameters; 2: an input; 9: a constant.
  const kind = (t: number) => (t <= 1 ? 'param' : t === 9 ? 'constant' : undefined);
  const kernels = [
    access([0, 9], [10]), // 0: from a parameter and a constant
    access([10, 1], [11]), // 1: through kernel 0's output
    access([2, 11], [12]), // 2: reads an input
    access([1], [13]), // 3: writes 13, which kernel 4 also writes
    access([12], [13]), // 4: not derived (reads 12)
    access([13], [14]), // 5: reads a tensor with a non-derived writer
  ];
  const d = parameterDerived(kernels, kind);
  assert.deepEqual([...d.keys()].sort(), [0, 1]);
  assert.deepEqual([...d.get(0)!], [0]);
  assert.deepEqual([...d.get(1)!].sort(), [0, 1], 'parameters reached through another derived kernel count');
});

/** y = x·Q(w) with Q the 1-bit quantiser (its weight statistics depend on w only), and a loss. */
function oneBitLayer(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [12, 16]);
  const w = b.param('w', [16, 8], { trainable: true });
  const y = x.matmul(quantize1bit(w));
  b.output('y', y);
  b.output('loss', y.square().sumAll().mul(1 / 96));
  return b.build();
}

async function programFor(graph: Graph, opts: { hoistParameterWork?: boolean; writeBack?: readonly (readonly [string, string])[] } = {}): Promise<Program> {
  const ctx = await gpu();
  return Program.create(ctx, compileGraph(graph, { limits: deviceLimits(ctx), hoistParameterWork: opts.hoistParameterWork }), { writeBack: opts.writeBack });
}

test('a 1-bit layer at inference: the weight statistics run once per change of w, and results follow w (float64 reference)', async () => {
  const g = oneBitLayer();
  const p = await programFor(g);
  try {
    const once = p.plan.steps.filter((s) => s.parameterDerived);
    assert.ok(once.length >= 1, 'the weight statistics are parameter-derived');
    const w = p.plan.graph.params.find((n) => n.attrs.name === 'w')!;
    for (const s of once) assert.deepEqual(s.parameterDerived, [w.id]);
    assert.equal(p.plan.steps.findIndex((s) => !s.parameterDerived), once.length, 'they are launched first');
    const check = async (feeds: Feeds, label: string) => {
      const out = await p.read(['y']);
      assertClose(`${label}: y`, out.y!, evaluate(g, feeds).outputs.y!.data);
    };
    const feeds = randomFeeds(g, 1);
    p.write(feeds);
    p.run();
    await check(feeds, 'first step');
    // Clobber what the derived dispatches wrote: a step with only x new must not recompute it.
    const derivedOut = p.plan.kernels[once[0]!.parts[0]!]!.outputs[0]!;
    const clobbered = p.plan.tensors.get(derivedOut)!;
    p.writeTensor(clobbered.node, new Float32Array(clobbered.bytes / 4).fill(1e6));
    const x2 = { ...feeds, x: randomFeeds(g, 2).x! };
    p.write({ x: x2.x! });
    p.run();
    const stale = await p.read(['y']);
    const want = evaluate(g, x2).outputs.y!.data;
    assert.ok(Math.abs(stale.y![0]! - want[0]!) > 1, 'with w unchanged the derived dispatch was skipped (its clobbered output was used)');
    // Writing w brings them back.
    const w3 = { ...x2, w: randomFeeds(g, 3).w! };
    p.write({ w: w3.w! });
    p.run();
    await check(w3, 'after writing w');
  } finally {
    p.destroy();
  }
});

test('training with write-back: the derived dispatches run again after every update, bit for bit as without hoisting', async () => {
  const g = gradients(oneBitLayer(), { loss: 'loss' });
  const { graph, writeBack } = withAdamW(g, ['w']);
  const feeds = randomFeeds(graph, 4);
  feeds.hyper = [1e-2, 1 / (1 - 0.9), 1 / (1 - 0.999), 0];
  const results: Float32Array[][] = [];
  for (const hoist of [true, false]) {
    const p = await programFor(graph, { hoistParameterWork: hoist, writeBack });
    try {
      assert.equal(p.plan.steps.some((s) => s.parameterDerived), hoist);
      p.write(feeds);
      const losses: Float32Array[] = [];
      for (let i = 0; i < 4; i++) {
        p.run();
        losses.push((await p.read(['loss'])).loss as Float32Array);
      }
      losses.push((await p.read(['w'])).w as Float32Array);
      results.push(losses);
    } finally {
      p.destroy();
    }
  }
  assert.notDeepEqual(results[0]![0], results[0]![3], 'the loss moves as w is updated');
  assert.deepEqual(results[0], results[1]);
});

test('dispatchesPerStep: parameter-derived dispatches count where a written parameter feeds them', () => {
  const inference = compileGraph(oneBitLayer(), { limits: { subgroupSize: 8, maxStorageBuffersPerShaderStage: 16 } });
  const once = inference.steps.filter((s) => s.parameterDerived).length;
  assert.ok(once >= 1);
  assert.equal(dispatchesPerStep(inference), inference.steps.length - once, 'at inference they do not run every step');
  assert.equal(dispatchesPerStep(inference, new Set(['w'])), inference.steps.length, 'with w updated every step they do');
  assert.equal(dispatchesPerStep(inference, new Set(['other'])), inference.steps.length - once);
});
