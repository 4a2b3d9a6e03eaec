// Kernels equal but for sizes share one module (codegen/shared-sizes.ts): ToMe's blocks, each at a
// token count of its own, and FPET's blocks after the merge compute what the blocks before them do.
// Checked over generated configurations (ViTs with merges in several blocks, forward and training
// steps, row counts read at run time, CPU- and GPU-class plans): the shared plan's outputs are
// bit-identical to the unshared plan's on this machine's adapter and match float64; attention at
// token counts that fill its lanes' last tile or not shares one module; kernels whose
// weights differ in size never share; a token count alone does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Tensor } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { softmax } from '../../src/core/ir/nn.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';
import { compileGraph, DEFAULT_LIMITS } from '../../codegen/compile.ts';
import { alternatingSplit, mergeTokens } from '../../src/fpet/models/merge.ts';
import { assertClose, runOnGpu } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

interface Case {
  readonly kind: 'tome' | 'fpet';
  readonly image: number;
  readonly dim: number;
  readonly depth: number;
  readonly r: number;
  readonly batch: number;
  readonly training: boolean;
  readonly adapterClass: 'cpu' | 'gpu';
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constantFrom('tome', 'tome', 'fpet'),
  image: fc.constantFrom(8, 8, 12),
  dim: fc.constantFrom(24, 32),
  depth: fc.constant(3),
  r: fc.integer({ min: 1, max: 3 }),
  batch: fc.integer({ min: 1, max: 3 }),
  training: fc.constantFrom(false, false, true),
  adapterClass: fc.constantFrom('cpu', 'gpu'),
});

function graphOf(c: Case) {
  const vit = { imageSize: c.image, patchSize: 2, inChannels: 1, dim: c.dim, depth: c.depth, heads: 2, mlpRatio: 2, numClasses: 5, representationSize: 0 };
  // ToMe merges in every block (a token count each); FPET in block 1 (before and after).
  const blocks = c.kind === 'tome' ? Array.from({ length: c.depth }, (_, i) => i) : [1];
  const spec: ModelSpec = { vit, batch: c.batch, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, kind: c.kind, blocks, r: c.r }, ...(c.training ? { training: { dropout: 0, dropPath: 0 } } : {}) };
  const graph = buildModel(spec).graph;
  return c.training ? gradients(graph, { loss: 'loss' }) : graph;
}

/**
 * `graph` run with its modules shared and without: asserts both compute the same bits and match
 * float64 (`label` names the case), and returns both runs.
 */
async function sharedAndOwn(graph: ReturnType<GraphBuilder['build']>, feeds: ReturnType<typeof randomFeeds>, opts: Parameters<typeof runOnGpu>[2], label: string) {
  const shared = await runOnGpu(graph, feeds, opts);
  const own = await runOnGpu(graph, feeds, { ...opts, shareModules: false });
  for (const name of graph.outputs.keys()) assert.deepEqual(Array.from(shared.out[name]!), Array.from(own.out[name]!), `${label} ${name}: shared and unshared plans compute the same bits`);
  const ref = evaluate(graph, feeds).outputs;
  for (const name of graph.outputs.keys()) assertClose(name, shared.out[name]!, ref[name]!.data);
  return { shared, own };
}

test('shared modules: outputs bit-identical to the unshared plan, float64 agreement, fewer modules where token counts differ', { timeout: 1_200_000 }, async () => {
  let fewer = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async (c, seed) => {
      const graph = graphOf(c);
      const feeds = randomFeeds(graph, seed);
      const { shared, own } = await sharedAndOwn(graph, feeds, { limits: { adapterClass: c.adapterClass } }, JSON.stringify(c));
      assert.ok(shared.plan.uniqueModules <= own.plan.uniqueModules, 'never more modules');
      if (shared.plan.uniqueModules < own.plan.uniqueModules) fewer++;
    }),
    fcParams(5),
  );
  assert.ok(fewer >= 2, `sharing took effect in ${fewer} of 5 plans`);
});

test('shared modules: a token count alone is read at run time; a weight of another size keeps its own module', () => {
  const g = new GraphBuilder();
  const w = g.param('w', [32, 48]);
  // The same product at 20 and 17 tokens (as before and after a merge), and at 20 tokens with a wider weight.
  g.output('a', g.input('x', [2, 20, 32]).matmul(w).relu());
  g.output('b', g.input('y', [2, 17, 32]).matmul(w).relu());
  g.output('c', g.input('z', [2, 20, 32]).matmul(g.param('v', [32, 64])).relu());
  const graph = g.build();
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const limits = { ...DEFAULT_LIMITS, adapterClass, subgroupSize: adapterClass === 'cpu' ? 8 : 32 };
    const plan = compileGraph(graph, { limits, batch: false });
    const code = (out: string) => plan.kernels.find((k) => k.outputs.includes(graph.outputs.get(out)!))!.code;
    assert.equal(code('a'), code('b'), `${adapterClass}: 20 and 17 tokens share one module`);
    assert.notEqual(code('a'), code('c'), `${adapterClass}: a weight of another width keeps its own`);
    assert.match(code('a'), /arrayLength/, 'the shared module reads the token count at run time');
    const own = compileGraph(graph, { limits, batch: false, shareModules: false });
    assert.equal(own.uniqueModules, plan.uniqueModules + 1);
  }
});

/** ToMe's merge (2 tokens) at each of `tokens` token counts, side by side. */
function merges(tokens: readonly number[]) {
  const g = new GraphBuilder();
  tokens.forEach((T, i) => {
    const x = g.input(`x${i}`, [2, T, 16]);
    g.output(`o${i}`, mergeTokens(x, undefined, x, { split: alternatingSplit(T), r: 2, differentiable: false }).x);
  });
  return g.build();
}

test('shared modules: merges at 9 to 13 tokens (set sizes ⌊(T − 1)/2⌋, index clamps, a repeated count) share modules, same bits', { timeout: 600_000 }, async () => {
  // Rounded counts, strides that are a rounded count times a width, i32 clamp bounds, and two
  // merges of one size among the others: each fits one function of a binding's length.
  const graph = merges([9, 10, 11, 12, 13, 11]);
  const one = merges([11]);
  const feeds = randomFeeds(graph, 3);
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const limits = { adapterClass };
    const { shared, own } = await sharedAndOwn(graph, feeds, { limits, batch: false }, adapterClass);
    const single = (await runOnGpu(one, randomFeeds(one, 1), { limits, batch: false })).plan.uniqueModules;
    // Odd and even counts differ in structure (a split's tail), so two counts' worth at most.
    assert.ok(shared.plan.uniqueModules <= 2 * single, `${adapterClass}: ${shared.plan.uniqueModules} modules for 6 merges, one merge has ${single}`);
    assert.ok(shared.plan.uniqueModules < own.plan.uniqueModules / 2, `${adapterClass}: ${shared.plan.uniqueModules} modules shared, ${own.plan.uniqueModules} not`);
  }
});

/** Attention (4 heads of 16, a size bias as after a merge) at each of `tokens` token counts side by side, and its gradients. */
function attentions(tokens: readonly number[]) {
  const g = new GraphBuilder();
  let loss: Tensor | undefined;
  tokens.forEach((T, i) => {
    // Inputs scaled by per-feature weights: the token count is a row count, not a weight's size.
    const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(`${n}${i}`, [2, 4, T, 16]).mul(g.param(`w${n}${i}`, [16], { trainable: true })));
    const logSize = g.input(`s${i}`, [2, 1, 1, T]).log();
    const o = softmax(q!.matmul(k!.transpose()).mul(0.25).add(logSize)).matmul(v!);
    loss = loss ? loss.add(o.square().sumAll()) : o.square().sumAll();
  });
  g.output('loss', loss!);
  return gradients(g.build(), { loss: 'loss' });
}

test('shared modules: attention forward and backward at token counts filling the lanes\' last tile (32, 40) or not (25, 35, 45) share one module each, same bits', { timeout: 600_000 }, async () => {
  // (Counts whose padding to two query rows per lane costs over a quarter more, 24 or 16, take
  // one row per lane, another variant: defaultAttentionConfig.)
  const tokens = [25, 32, 40, 35, 45];
  const graph = attentions(tokens);
  const feeds = Object.fromEntries(Object.entries(randomFeeds(graph, 5)).map(([n, v]) => [n, n.startsWith('s') ? Array.from(v as ArrayLike<number>, (x) => 1 + Math.abs(x) * 3) : v]));
  const limits = { adapterClass: 'cpu' as const };
  const { shared } = await sharedAndOwn(graph, feeds, { limits, batch: false }, 'cpu');
  const attention = shared.plan.kernels.filter((k) => k.kind === 'attention');
  const modules = new Set(attention.map((k) => k.code));
  // The forward and the backward's two parts (dQ; dK and dV), each one module for all five counts.
  assert.equal(attention.length, 3 * tokens.length, attention.map((k) => k.name).join(', '));
  assert.equal(modules.size, 3, `attention modules: ${attention.map((k) => `${k.name}:${[...modules].indexOf(k.code)}`).join(', ')}`);
});

test('shared modules: a float constant a token count enters (as a merge\'s sort key T − i) is read at run time too', { timeout: 300_000 }, async () => {
  /** Products at 20, 17 and 14 tokens, each plus `constant(T)` as an f32 constant. */
  const products = (constant: (T: number) => number) => {
    const g = new GraphBuilder();
    const w = g.param('w', [32, 48]);
    for (const T of [20, 17, 14]) g.output(`o${T}`, g.input(`x${T}`, [2, T, 32]).matmul(w).add(constant(T)).relu());
    return g.build();
  };
  const graph = products((T) => T);
  const feeds = randomFeeds(graph, 11);
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const limits = { adapterClass };
    const shared = await runOnGpu(graph, feeds, { limits, batch: false });
    const own = await runOnGpu(graph, feeds, { limits, batch: false, shareModules: false });
    // Not the same bits: a driver may fold a literal into a sum (lavapipe's NIR reassociates
    // constants), which a value read at run time is not.
    const ref = evaluate(graph, feeds).outputs;
    for (const name of graph.outputs.keys()) {
      assertClose(name, shared.out[name]!, ref[name]!.data);
      assertClose(name, own.out[name]!, ref[name]!.data);
    }
    // As many modules as when every product adds the same constant (a matmul variant may differ by size).
    const sameConstant = compileGraph(products(() => 1), { limits: { ...DEFAULT_LIMITS, adapterClass, subgroupSize: adapterClass === 'cpu' ? 8 : 32 }, batch: false });
    assert.equal(shared.plan.uniqueModules, sameConstant.uniqueModules, `${adapterClass}: the constant costs no module`);
    assert.ok(shared.plan.uniqueModules < own.plan.uniqueModules, `${adapterClass}: ${shared.plan.uniqueModules} modules shared, ${own.plan.uniqueModules} not`);
    assert.ok(shared.plan.kernels.some((k) => /f32\(arrayLength/.test(k.code)), 'the constant is computed from a binding\'s length');
  }
});

test('shared modules: products at token counts whose default variants differ (8 or 16 rows per lane) take the heaviest one\'s variant and share one module', { timeout: 300_000 }, async () => {
  const g = new GraphBuilder();
  const w = g.param('w', [512, 48]);
  // Alone, 14 tokens pad best to 16 rows per lane and 20 or 17 to 8 (K 512: over 2²⁰ flops, not a small product).
  for (const T of [20, 17, 14]) g.output(`o${T}`, g.input(`x${T}`, [2, T, 512]).matmul(w).relu());
  const graph = g.build();
  const feeds = randomFeeds(graph, 13);
  const limits = { adapterClass: 'cpu' as const };
  const shared = await runOnGpu(graph, feeds, { limits, batch: false });
  const own = await runOnGpu(graph, feeds, { limits, batch: false, shareModules: false });
  const ref = evaluate(graph, feeds).outputs;
  for (const name of graph.outputs.keys()) assertClose(name, shared.out[name]!, ref[name]!.data);
  assert.equal(new Set(own.plan.kernels.map((k) => k.config)).size, 2, `alone they differ: ${own.plan.kernels.map((k) => k.config).join('; ')}`);
  assert.equal(new Set(shared.plan.kernels.map((k) => k.config)).size, 1, shared.plan.kernels.map((k) => k.config).join('; '));
  assert.equal(shared.plan.uniqueModules, 1);
  // The tuner's choices stay its own: a chooser's variant is never replaced.
  const chosen = compileGraph(graph, { limits: { ...DEFAULT_LIMITS, adapterClass: 'cpu', subgroupSize: 8 }, batch: false, matmulVariant: (sig, offered) => offered.find((v) => v.name === 'subgroup' && v.config.rows === (sig.M === 14 ? 16 : 8)), variantKey: 'test' });
  assert.equal(new Set(chosen.kernels.map((k) => k.config)).size, 2, chosen.kernels.map((k) => k.config).join('; '));
});

test('shared modules: score products at set sizes 24×25, 19×20, 17×17 and 14×15 share one module (a product of two sizes read from its own binding; 20 columns stored as scalars like the others), same bits', { timeout: 300_000 }, async () => {
  const g = new GraphBuilder();
  // A merge's cosine scores at four blocks' set sizes: no one length gives every size, and only 20 columns fit vector stores.
  [[24, 25], [19, 20], [17, 17], [14, 15]].forEach(([A, B], i) => g.output(`s${i}`, g.input(`a${i}`, [2, A!, 16]).matmul(g.input(`b${i}`, [2, B!, 16]).transpose())));
  const graph = g.build();
  const feeds = randomFeeds(graph, 17);
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const limits = { adapterClass };
    const { shared } = await sharedAndOwn(graph, feeds, { limits, batch: false }, adapterClass);
    assert.equal(shared.plan.uniqueModules, 1, `${adapterClass}: ${shared.plan.kernels.map((k) => k.config).join('; ')}`);
  }
});

test('small products: at most 2²⁰ flops default to 4 rows per lane; in a family with a bigger member they take its variant and share its module', { timeout: 300_000 }, async () => {
  const limits = { ...DEFAULT_LIMITS, adapterClass: 'cpu' as const, subgroupSize: 8 };
  const products = (tokens: readonly number[]) => {
    const g = new GraphBuilder();
    const w = g.param('w', [512, 48]);
    for (const T of tokens) g.output(`o${T}`, g.input(`x${T}`, [2, T, 512]).matmul(w).relu());
    return g.build();
  };
  // 2·2·10·512·48 = 983k flops alone: 4 rows per lane; at 20 tokens, 1.97M: more.
  const small = compileGraph(products([10]), { limits, batch: false });
  assert.match(small.kernels[0]!.config, / r4 /, small.kernels[0]!.config);
  const big = compileGraph(products([20]), { limits, batch: false });
  assert.doesNotMatch(big.kernels[0]!.config, / r4 /, big.kernels[0]!.config);
  const graph = products([20, 10]);
  const feeds = randomFeeds(graph, 19);
  const shared = await runOnGpu(graph, feeds, { limits: { adapterClass: 'cpu' }, batch: false });
  const ref = evaluate(graph, feeds).outputs;
  for (const name of graph.outputs.keys()) assertClose(name, shared.out[name]!, ref[name]!.data);
  assert.equal(new Set(shared.plan.kernels.map((k) => k.config)).size, 1, shared.plan.kernels.map((k) => k.config).join('; '));
  assert.equal(shared.plan.uniqueModules, 1);
});

test('shared modules: maps over each block\'s token count (a log of token sizes at 40, 35 and 30 tokens) compute scalars where one could compute vectors, and share one module, same bits', { timeout: 300_000 }, async () => {
  const g = new GraphBuilder();
  for (const T of [40, 35, 30]) g.output(`l${T}`, g.input(`s${T}`, [2, T]).log());
  const graph = g.build();
  const feeds = Object.fromEntries(Object.entries(randomFeeds(graph, 23)).map(([n, v]) => [n, Array.from(v as ArrayLike<number>, (x) => 1 + Math.abs(x) * 3)]));
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const limits = { adapterClass };
    const { shared, own } = await sharedAndOwn(graph, feeds, { limits, batch: false }, adapterClass);
    assert.match(own.plan.kernels.map((k) => k.config).join(';'), /vec4/, 'alone, 40 tokens compute vectors');
    assert.equal(shared.plan.uniqueModules, 1, `${adapterClass}: ${shared.plan.kernels.map((k) => k.config).join('; ')}`);
  }
});
