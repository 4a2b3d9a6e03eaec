// The fusion planner's passes (codegen/fusion/), one test each: on a small graph where the pass
// has something to decide, the plan of the pass list up to and including it differs from the plan
// of the list without it in exactly the way the pass promises. (test/codegen/plan.test.ts checks
// whole plans; these pin each pass's own decision.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { gelu, layerNorm, linear, softmax } from '../../src/core/ir/nn.ts';
import { FUSION_PASSES, planFusion, UNFUSED_PASSES, type FusionPass, type FusionPlan } from '../../codegen/fusion/index.ts';
import { SMALL_REDUCTION, SMALL_REDUCTIONS } from '../../codegen/fusion/small-reductions.ts';
import { GPU_NORM_PROLOGUE_MAX_FLOPS } from '../../codegen/fusion/norm-prologues.ts';
import type { CompiledPlan } from '../../codegen/compile.ts';
import fc from 'fast-check';
import { checkAgainstReference } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

const OPTS = { maxBindings: 8 };

/** The plan of FUSION_PASSES up to `name` (with it, or without it). */
function planUpTo(graph: Graph, name: string, withIt: boolean, maxBindings = OPTS.maxBindings, adapterClass?: 'cpu' | 'gpu'): FusionPlan {
  const at = FUSION_PASSES.findIndex((p) => p.name === name);
  assert.ok(at >= 0, `no fusion pass named ${name}`);
  const passes: FusionPass[] = FUSION_PASSES.slice(0, withIt ? at + 1 : at);
  return planFusion(graph, { maxBindings, ...(adapterClass ? { adapterClass } : {}) }, passes);
}

const stored = (plan: FusionPlan) => new Set(plan.materialized);
const opOf = (g: Graph, id: number) => g.node(id).op;

function attentionGraph(): { g: Graph; b: GraphBuilder } {
  const b = new GraphBuilder();
  const P = (name: string) => b.param(name, [2, 2, 9, 8], { trainable: true });
  // Q computed in place (an elementwise op of a parameter), K and V parameters.
  const q = P('q').mul(0.5).tanh(), k = P('k'), v = P('v');
  b.output('loss', softmax(q.matmul(k.transpose()).mul(0.3)).matmul(v).sumAll());
  return { g: b.build(), b };
}

test('store-unfusable: buffer leaves, outputs and anchors are stored; elementwise ops are not', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 8]);
  b.output('y', x.exp().sum(1).mul(2));
  const g = b.build();
  const plan = planUpTo(g, 'store-unfusable', true);
  assert.deepEqual([...plan.materialized].map((id) => opOf(g, id)).sort(), ['input', 'mul', 'sum']);
});

test('unfused passes: every op but pure renamings gets a kernel', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 8]);
  b.output('y', x.exp().reshape([32]).mul(2));
  const g = b.build();
  const plan = planFusion(g, OPTS, UNFUSED_PASSES);
  assert.deepEqual([...plan.materialized].map((id) => opOf(g, id)).sort(), ['exp', 'input', 'mul']);
});

test('fuse-attention: softmax(Q·Kᵀ)·V becomes one kernel of P·V', () => {
  const { g } = attentionGraph();
  assert.equal(planUpTo(g, 'fuse-attention', false).attention.size, 0);
  const plan = planUpTo(g, 'fuse-attention', true);
  assert.equal(plan.attention.size, 1);
  const pattern = [...plan.attention.values()][0]!;
  for (const id of pattern.members) assert.ok(!plan.isMaterialized(id), `${opOf(g, id)} %${id} is computed in the attention kernel`);
});

test('fuse-matmul-epilogues: bias and GELU are computed on the accumulator', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [6, 8]);
  const y = gelu(linear(x, b.param('w', [12, 8]), b.param('bias', [12])));
  b.output('y', y);
  const g = b.build();
  assert.equal(planUpTo(g, 'fuse-matmul-epilogues', false).anchorOf.size, 0);
  const plan = planUpTo(g, 'fuse-matmul-epilogues', true);
  const [root, mm] = [...plan.anchorOf][0]!;
  assert.equal(root, g.outputs.get('y'));
  assert.equal(opOf(g, mm!), 'matmul');
  assert.ok(!plan.isMaterialized(mm!), 'the product is never stored');
});

test('store-matmul-prologues: a LayerNorm output read by many column tiles is stored once', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [16, 64]);
  const u = layerNorm(x, b.param('g', [64]), b.param('beta', [64]));
  b.output('y', linear(u, b.param('w', [256, 64])));
  const g = b.build();
  const without = stored(planUpTo(g, 'store-matmul-prologues', false));
  const added = [...stored(planUpTo(g, 'store-matmul-prologues', true))].filter((id) => !without.has(id));
  assert.equal(added.length, 1, 'one prologue stored');
  assert.equal(g.node(g.nodesOf('matmul')[0]!.inputs[0]!).inputs.includes(added[0]!) || g.nodesOf('matmul')[0]!.inputs[0] === added[0], true);
});

test('store-attention-backward-inputs: what computes a backward part\'s inputs is stored, views stay inlined', () => {
  const { g } = attentionGraph();
  const train = gradients(g, { loss: 'loss' });
  const without = stored(planUpTo(train, 'store-attention-backward-inputs', false));
  const added = [...stored(planUpTo(train, 'store-attention-backward-inputs', true))].filter((id) => !without.has(id));
  assert.ok(added.length > 0, 'the pass stores something');
  const inputs = new Set(train.nodesOf('attentionBackward').flatMap((n) => n.inputs));
  for (const id of added) {
    assert.ok(!['reshape', 'permute', 'broadcast', 'fill'].includes(opOf(train, id)), `a view or literal is stored: ${opOf(train, id)}`);
    // Each stored node is an input, or what an input reads through views.
    let reader = [...inputs].find((i) => i === id);
    for (const i of inputs) for (let x = i; reader === undefined && train.node(x).inputs.length === 1; x = train.node(x).inputs[0]!) if (train.node(x).inputs[0] === id) reader = i;
    assert.ok(reader !== undefined, `%${id} (${opOf(train, id)}) feeds no attention backward part`);
  }
});

test('store-costly-recomputations: an expensive expression read by two kernels is stored once', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 8]);
  let e = x;
  for (let i = 0; i < 8; i++) e = e.exp().mul(0.5);
  b.output('a', e.sum(1));
  b.output('c', e.max(1));
  const g = b.build();
  const without = stored(planUpTo(g, 'store-costly-recomputations', false));
  const added = [...stored(planUpTo(g, 'store-costly-recomputations', true))].filter((id) => !without.has(id));
  assert.equal(added.length, 1);
  assert.equal(opOf(g, added[0]!), 'mul');
});

test('fuse-row-reductions: LayerNorm\'s statistics are computed in the kernel that normalises', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 32]);
  b.output('y', layerNorm(x, b.param('g', [32]), b.param('beta', [32])));
  const g = b.build();
  assert.equal(planUpTo(g, 'fuse-row-reductions', false).rowFused.size, 0);
  const plan = planUpTo(g, 'fuse-row-reductions', true);
  assert.equal(plan.rowFused.size, 2, 'Σx and Σ(x − mean)² fused');
  for (const root of plan.rowFused.values()) assert.equal(root, g.outputs.get('y'));
});

test('store-costly-recomputations: an expanding broadcast is never stored; a computed operand of two matmuls is', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [6, 16]);
  const row = x.exp().sum(1).log().mul(2).sqrt().add(1).tanh().exp().mul(3).sqrt(); // [6, 1], costly
  const wide = row.broadcastTo([6, 16]);
  b.output('p', wide.mul(x));
  b.output('q', wide.add(x));
  const g2 = x.add(b.input('y', [6, 16])).mul(3); // cheap, read by two matmuls
  b.output('m1', g2.matmul(b.param('w1', [16, 4])));
  b.output('m2', g2.matmul(b.param('w2', [16, 4])));
  const graph = b.build();
  const plan = planUpTo(graph, 'store-costly-recomputations', true);
  const broadcast = graph.nodes.find((n) => n.op === 'broadcast')!;
  assert.ok(!plan.isMaterialized(broadcast.id), 'the broadcast copy is not stored');
  const sharedOperand = graph.nodes.filter((n) => graph.nodes.filter((m) => m.op === 'matmul' && m.inputs[0] === n.id).length === 2);
  assert.equal(sharedOperand.length, 1);
  assert.ok(plan.isMaterialized(sharedOperand[0]!.id), 'the operand of both matmuls is stored');
});

test('store-costly-recomputations: a one-hot from per-row indices read by two matmuls is recomputed in both', () => {
  // FPET's matching matrix: rows of [1, 5] scores → the top-1 column → a one-hot read (transposed) by two matmuls.
  const b = new GraphBuilder();
  const scores = b.input('s', [2, 3, 5]);
  const best = scores.topk(1, -1);
  const hard = b.constant([0, 1, 2, 3, 4], [1, 1, 5]).compare('eq', best.cast('f32'));
  const mT = hard.transpose();
  b.output('a', mT.matmul(b.input('x', [2, 3, 4])));
  b.output('c', mT.matmul(b.input('z', [2, 3, 1])));
  const graph = b.build();
  const plan = planUpTo(graph, 'store-costly-recomputations', true);
  const oneHot = graph.nodes.find((n) => n.op === 'compare')!;
  assert.ok(!plan.isMaterialized(oneHot.id) && !plan.isMaterialized(graph.nodes.find((n) => n.op === 'permute')!.id), 'the one-hot has no kernel of its own');
});

test('fuse-row-reductions: a row sum only a matmul epilogue reads is computed by the kernel writing its input', () => {
  const b = new GraphBuilder();
  const x = b.param('x', [10, 8], { trainable: true });
  const ln = layerNorm(x, b.param('g', [8]), b.param('h', [8]), 1e-5);
  const y = x.add(linear(ln, b.param('w1', [8, 8]))).add(linear(x, b.param('wa', [8, 8])));
  b.output('loss', y.mul(b.input('w', [10, 8])).sumAll());
  const graph = gradients(b.build(), { loss: 'loss' });
  const plan = planUpTo(graph, 'fuse-row-reductions', true);
  // Σ of a kernel's own root: the root's kernel writes the sum too.
  const hosted = [...plan.rowFused].filter(([r, root]) => graph.node(r).op === 'sum' && plan.siblings.get(root)?.includes(r) && graph.node(r).inputs.some((i) => i === root || graph.node(i).inputs.includes(root)));
  assert.ok(hosted.length > 0, 'LayerNorm backward\'s Σ dx̂ is hosted by the kernel writing dx̂');
});

test('inline-row-inputs: LayerNorm backward\'s dx̂, read only by the kernel of Σ dx̂ and dx, is computed there', () => {
  const b = new GraphBuilder();
  const x = b.param('x', [10, 8], { trainable: true });
  const y = x.add(linear(layerNorm(x, b.param('g', [8]), b.param('h', [8]), 1e-5), b.param('w1', [8, 8])));
  b.output('loss', y.mul(b.input('w', [10, 8])).sumAll());
  const graph = gradients(b.build(), { loss: 'loss' });
  const before = planUpTo(graph, 'inline-row-inputs', false), after = planUpTo(graph, 'inline-row-inputs', true);
  assert.equal(after.kernelRoots().length, before.kernelRoots().length - 1);
  const dx = graph.outputs.get('grad:x')!;
  const host = after.writer(dx);
  assert.ok([...after.rowFused.values()].filter((h) => h === host).length >= 2, 'the kernel writing dx computes both row sums of the backward');
});

test('fuse-norm-prologues: a LayerNorm read by one matmul is computed in its kernel (on GPUs while the matmul is small)', () => {
  const b = new GraphBuilder();
  const ln = layerNorm(b.input('x', [2, 6, 16]), b.param('g', [16]), b.param('h', [16]), 1e-6);
  b.output('y', linear(ln, b.param('w', [64, 16]), b.param('bias', [64])));
  const graph = b.build();
  const before = planUpTo(graph, 'fuse-norm-prologues', false, OPTS.maxBindings, 'cpu');
  const cpu = planUpTo(graph, 'fuse-norm-prologues', true, OPTS.maxBindings, 'cpu');
  const gpuPlan = planUpTo(graph, 'fuse-norm-prologues', true, OPTS.maxBindings, 'gpu');
  assert.ok(before.kernelRoots().length > 1, 'without the pass the norm has kernels of its own');
  assert.equal(cpu.kernelRoots().length, 1, 'one kernel: the matmul');
  assert.deepEqual([...cpu.matmulRowReductions.keys()].map((r) => opOf(graph, r)), ['sum', 'sum'], 'Σx and Σ(x − mean)² per row');
  assert.equal(gpuPlan.kernelRoots().length, 1, 'GPU adapters too (the tiled variant computes the statistics per tile)');
  // On GPUs the statistics recomputed per column tile cost more than the row kernel past
  // GPU_NORM_PROLOGUE_MAX_FLOPS (ViT-B/16's qkv at batch 32: 22 GFLOP).
  const big = new GraphBuilder();
  const lnBig = layerNorm(big.input('x', [32, 197, 768]), big.param('g', [768]), big.param('h', [768]), 1e-6);
  big.output('y', linear(lnBig, big.param('w', [2304, 768]), big.param('bias', [2304])));
  const bigGraph = big.build();
  assert.ok(2 * 32 * 197 * 2304 * 768 > GPU_NORM_PROLOGUE_MAX_FLOPS);
  assert.equal(planUpTo(bigGraph, 'fuse-norm-prologues', true, OPTS.maxBindings, 'gpu').matmulRowReductions.size, 0, 'GPU: the big matmul keeps its row kernel');
  assert.equal(planUpTo(bigGraph, 'fuse-norm-prologues', true, OPTS.maxBindings, 'cpu').matmulRowReductions.size, 2, 'CPU adapters have no such limit');
  // Statistics of an expression over three stored rows (block 0: cls | patches + pos) would be
  // recomputed from all three in every column tile: the norm keeps its row kernel.
  const b3 = new GraphBuilder();
  const x0 = b3.concat([b3.param('cls', [2, 1, 16]), b3.input('x', [2, 5, 16])], 1).add(b3.param('pos', [1, 6, 16]));
  b3.output('y', linear(layerNorm(x0, b3.param('g', [16]), b3.param('h', [16]), 1e-6), b3.param('w', [64, 16]), b3.param('bias', [64])));
  const three = planUpTo(b3.build(), 'fuse-norm-prologues', true, OPTS.maxBindings, 'cpu');
  assert.equal(three.matmulRowReductions.size, 0, 'no statistics in the matmul');
  assert.ok(three.kernelRoots().length > 1);
});

test('fuse-norm-prologues with a backward: the statistics it reads too are stored by the matmul that normalises, and the gradients match float64', { timeout: 600_000 }, async () => {
  // A frozen block's norm and matmul under a trainable shift (an adapter's place): the backward
  // reads the statistics (LayerNorm's dx), not the normalised rows (no weight gradient).
  const b = new GraphBuilder();
  const x = b.input('x', [2, 7, 16]).add(b.param('shift', [16], { trainable: true }));
  const y = linear(layerNorm(x, b.param('g', [16], { trainable: false }), b.param('h', [16], { trainable: false }), 1e-6), b.param('w', [24, 16], { trainable: false }));
  b.output('loss', y.square().sum(2).sum(1).sum(0));
  const graph = gradients(b.build(), { loss: 'loss' });
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const fusion = planFusion(graph, { ...OPTS, adapterClass }, FUSION_PASSES);
    const stored = [...fusion.matmulRowReductions.keys()].filter((r) => fusion.isMaterialized(r));
    assert.equal(stored.length, 2, `${adapterClass}: Σx and Σ(x − mean)² stored for the backward`);
    const plan = await checkAgainstReference(graph, randomFeeds(graph, 5), { limits: { adapterClass } });
    const writer = plan.kernels.find((k) => stored.every((r) => k.outputs.includes(r)));
    assert.equal(writer?.kind, 'matmul', `${adapterClass}: written by the matmul's kernel (${writer?.name})`);
    assert.ok(!plan.kernels.some((k) => k.kind === 'row' && k.outputs.every((o) => plan.graph.node(o).op === 'sum')), `${adapterClass}: no kernel of statistics alone: ${plan.kernels.map((k) => k.name).join(', ')}`);
  }
});

test('fuse-second-products: fc2(h) + up(a) is one kernel, on CPU and GPU adapters', () => {
  const b = new GraphBuilder();
  const h = b.input('h', [12, 20]), x = b.input('x', [12, 16]);
  const up = linear(linear(x, b.param('wd', [8, 16])).relu(), b.param('wu', [16, 8]));
  b.output('y', linear(h, b.param('w2', [16, 20]), b.param('b2', [16])).add(up).add(x));
  const graph = b.build();
  const before = planUpTo(graph, 'fuse-second-products', false, OPTS.maxBindings, 'cpu');
  const plan = planUpTo(graph, 'fuse-second-products', true, OPTS.maxBindings, 'cpu');
  assert.equal(plan.secondProduct.size, 1);
  assert.equal(plan.kernelRoots().length, before.kernelRoots().length - 1, 'the adapter product has no kernel of its own');
  assert.equal(planUpTo(graph, 'fuse-second-products', true, OPTS.maxBindings, 'gpu').secondProduct.size, 1);
});

/** FPET's metric input: the keys [B, H, N, D] averaged over H heads, then a linear layer and a ReLU. */
function meanOverHeads(heads: number): Graph {
  const b = new GraphBuilder();
  const k = b.input('k', [2, heads, 6, 8]);
  const kbar = k.mean(1).reshape([2, 6, 8]);
  b.output('m', linear(kbar, b.param('w', [4, 8])).relu());
  return b.build();
}

test('inline-small-reductions: a mean over 4 heads is computed by the matmul that reads it; over 8 it keeps its kernel', () => {
  const g = meanOverHeads(4);
  const sum = g.nodes.find((n) => n.op === 'sum')!;
  assert.ok(planUpTo(g, 'inline-small-reductions', false).isMaterialized(sum.id));
  const plan = planUpTo(g, 'inline-small-reductions', true);
  assert.ok(!plan.isMaterialized(sum.id), 'the mean over heads has no kernel of its own');
  assert.equal(plan.kernelRoots().length, planUpTo(g, 'inline-small-reductions', false).kernelRoots().length - 1);
  const wide = meanOverHeads(8);
  assert.ok(planUpTo(wide, 'inline-small-reductions', true).isMaterialized(wide.nodes.find((n) => n.op === 'sum')!.id));
});

test('inline-small-reductions: a norm over ≤ 16 features read only by a matmul\'s operands is computed there; one a map kernel reads is not', () => {
  // ToMe's and FPET's cosine scores: unit-norm tokens, even ones against odd ones.
  const b = new GraphBuilder();
  const m = b.input('m', [2, 6, 12]);
  const unit = m.div(m.square().sum(-1).add(1e-6).sqrt());
  const even = unit.gather(b.constant([0, 2, 4], [1, 3], 'i32'), 1), odd = unit.gather(b.constant([1, 3, 5], [1, 3], 'i32'), 1);
  b.output('scores', even.matmul(odd.transpose()));
  const g = b.build();
  const norm = g.nodes.find((n) => n.op === 'sum')!;
  assert.ok(planUpTo(g, 'inline-small-reductions', false).isMaterialized(norm.id));
  assert.ok(!planUpTo(g, 'inline-small-reductions', true).isMaterialized(norm.id), 'the cosine scores compute the norms');
  const b2 = new GraphBuilder();
  const x = b2.input('x', [2, 6, 12]);
  b2.output('y', x.div(x.square().sum(-1).sqrt()).exp());
  const g2 = b2.build();
  const plan2 = planUpTo(g2, 'inline-small-reductions', true);
  assert.ok(plan2.isMaterialized(g2.nodes.find((n) => n.op === 'sum')!.id) || plan2.rowFused.size > 0, 'a map kernel reading every feature gets the norm from a row kernel');
});

test('inline-small-reductions: a norm over the mean of 4 heads, itself computed in place, is over budget and keeps its kernel', () => {
  // ToMe's metric: the keys averaged over heads, then normalised. Computing that norm in each row of
  // the score tiles would repeat 16 × 4 loads per row (and quadruple the kernel's text).
  const b = new GraphBuilder();
  const k = b.input('k', [2, 4, 6, 16]);
  const m = k.mean(1).reshape([2, 6, 16]);
  const unit = m.div(m.square().sum(-1).sqrt());
  b.output('scores', unit.gather(b.constant([0, 2, 4], [1, 3], 'i32'), 1).matmul(unit.gather(b.constant([1, 3, 5], [1, 3], 'i32'), 1).transpose()));
  const g = b.build();
  const plan = planUpTo(g, 'inline-small-reductions', true);
  const [overHeads, norm] = g.nodes.filter((n) => n.op === 'sum');
  assert.ok(!plan.isMaterialized(overHeads!.id), 'the mean over heads is computed in place');
  assert.ok(plan.isMaterialized(norm!.id), 'its norm has a kernel');
});

test('inline-small-reductions on the GPU: sums and maxima over 2-4 heads read by matmuls and elementwise ops, forward and backward, match the float64 reference', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: SMALL_REDUCTION }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(4, 7, 8), fc.boolean(), async (heads, tokens, width, useMax) => {
      const b = new GraphBuilder();
      const k = b.param('k', [2, heads, tokens, width], { trainable: true });
      const pooled = (useMax ? k.max(1) : k.mean(1)).reshape([2, tokens, width]);
      // Cosine scores between tokens: the norm over ≤ 16 features is computed by the score matmul.
      const unit = pooled.div(pooled.square().sum(-1).add(1e-6).sqrt());
      const half = Math.ceil(tokens / 2);
      const even = unit.gather(b.constant(Array.from({ length: half }, (_, i) => Math.min(2 * i, tokens - 1)), [1, half], 'i32'), 1);
      const scores = even.matmul(unit.transpose());
      const y = linear(pooled, b.param('w', [5, width], { trainable: true })).relu().add(pooled.sum(-1).mul(0.1));
      b.output('loss', y.square().sumAll().add(scores.square().sumAll()));
      const graph = gradients(b.build(), { loss: 'loss' });
      const plan = await checkAgainstReference(graph, randomFeeds(graph, heads * 100 + tokens));
      // The forward's reduction of the stored keys is computed in place (the backward's count of
      // tied maxima reduces a computed mask: that one keeps its kernel).
      const overHeads = plan.graph.nodes.find((n) => (n.op === 'sum' || n.op === 'reduceMax') && plan.graph.node(n.inputs[0]!).op === 'param')!;
      assert.ok(!plan.kernels.some((kn) => kn.root === overHeads.id), 'the reduction over heads has no kernel');
    }),
    fcParams(8),
  );
});

test('inline-small-reductions, GPU class: means over up to 16 heads and norms over up to 64 features (ViT-B: 12 heads of 64) are computed where read, forward and backward match float64', { timeout: 600_000 }, async () => {
  const gpuSmall = SMALL_REDUCTIONS.gpu;
  let normsInPlace = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: SMALL_REDUCTION + 1, max: gpuSmall.axis }), fc.integer({ min: 2, max: 9 }), fc.constantFrom(20, 32, 64), async (heads, tokens, width) => {
      const b = new GraphBuilder();
      const k = b.param('k', [1, heads, tokens, width], { trainable: true });
      const pooled = k.mean(1).reshape([1, tokens, width]);
      const metric = linear(pooled, b.param('w', [width, width], { trainable: true }));
      const unit = metric.div(metric.square().sum(-1).sqrt());
      const half = Math.ceil(tokens / 2);
      const even = unit.gather(b.constant(Array.from({ length: half }, (_, i) => Math.min(2 * i, tokens - 1)), [1, half], 'i32'), 1);
      b.output('loss', even.matmul(unit.transpose()).square().sumAll());
      const forward = b.build();
      const hasKernel = (plan: CompiledPlan, id: number) => plan.kernels.some((kn) => kn.outputs.includes(id));
      for (const graph of [forward, gradients(forward, { loss: 'loss' })]) {
        const plan = await checkAgainstReference(graph, randomFeeds(graph, heads * 100 + tokens), { limits: { adapterClass: 'gpu' } });
        const sums = plan.graph.nodes.filter((n) => n.op === 'sum');
        const overHeads = sums.find((n) => plan.graph.node(n.inputs[0]!).op === 'param')!;
        assert.ok(!hasKernel(plan, overHeads.id), 'the mean over heads has no kernel');
        // At inference the norm is read by the score matmul only (in training the backward reads it too).
        const norm = sums.find((n) => n.attrs.axis === 2 && plan.graph.node(n.inputs[0]!).type.shape.join() === `1,${tokens},${width}`);
        if (graph === forward && norm && !hasKernel(plan, norm.id)) normsInPlace++;
      }
    }),
    fcParams(8),
  );
  assert.ok(normsInPlace > 0, 'the metric\'s norm was computed in the score matmul');
});

test('enforce-binding-limits: no kernel binds more buffers than the device allows', () => {
  const b = new GraphBuilder();
  const xs = Array.from({ length: 7 }, (_, i) => b.input(`x${i}`, [4, 8]));
  b.output('y', xs.reduce((s, x) => s.add(x.exp())));
  const g = b.build();
  const over = planUpTo(g, 'enforce-binding-limits', false, 4);
  assert.ok(over.roots().some((r) => over.members(r.id).reads.size + 1 > 4), 'without the pass a kernel is over the limit');
  const plan = planUpTo(g, 'enforce-binding-limits', true, 4);
  for (const r of plan.roots()) assert.ok(plan.members(r.id).reads.size + 1 <= 4, `kernel %${r.id} binds ${plan.members(r.id).reads.size + 1}`);
});

test('group-siblings: same-shape map kernels sharing inputs become one kernel', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 8]), y = b.input('y', [4, 8]);
  b.output('a', x.add(y).exp());
  b.output('c', x.mul(y).exp());
  const g = b.build();
  assert.equal(planUpTo(g, 'group-siblings', false).kernelRoots().length, 2);
  const plan = planUpTo(g, 'group-siblings', true);
  assert.equal(plan.kernelRoots().length, 1);
  assert.deepEqual(plan.siblings.get(g.outputs.get('a')!), [g.outputs.get('c')]);
});

test('group-siblings: a root reading what the kernel writes joins it only when it reads it at its own index', () => {
  const b = new GraphBuilder();
  const p = b.input('p', [8, 8]), g = b.input('g', [8, 8]);
  const m = g.mul(0.1).add(p.mul(0.9));
  b.output('m', m);
  b.output('p2', p.sub(m.mul(0.01))); // AdamW's shape: the new moment feeds the new parameter
  b.output('t', m.permute([1, 0]).exp()); // reads m transposed: other threads' elements
  const graph = b.build();
  const plan = planUpTo(graph, 'group-siblings', true);
  const [mId, p2, t] = ['m', 'p2', 't'].map((n) => graph.outputs.get(n)!);
  assert.deepEqual(plan.siblings.get(mId!), [p2]);
  assert.ok(plan.kernelRoots().some((r) => r.id === t), 'the transposed read gets a kernel of its own');
});

test('join-attention-lse: the backward\'s log-sum-exp is written by the fused forward kernel', () => {
  const { g } = attentionGraph();
  const train = gradients(g, { loss: 'loss' });
  const lse = train.nodesOf('attentionBackward').find((n) => n.attrs.part === 'lse')!;
  assert.ok(planUpTo(train, 'join-attention-lse', false).kernelRoots().some((r) => r.id === lse.id), 'without the pass: a kernel of its own');
  const plan = planUpTo(train, 'join-attention-lse', true);
  assert.ok(!plan.kernelRoots().some((r) => r.id === lse.id));
  assert.ok([...plan.siblings.values()].some((s) => s.includes(lse.id)));
});

test('alias-stored-reshapes: a reshape of a stored result used only by it shares its buffer', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 8]);
  b.output('y', x.exp().sum(1).reshape([4]));
  const g = b.build();
  const y = g.outputs.get('y')!;
  assert.equal(planUpTo(g, 'alias-stored-reshapes', false).aliasOf.size, 0);
  const plan = planUpTo(g, 'alias-stored-reshapes', true);
  assert.equal(opOf(g, plan.aliasOf.get(y)!), 'sum');
  assert.ok(!plan.kernelRoots().some((r) => r.id === y), 'no copy kernel');
});
