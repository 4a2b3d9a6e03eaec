// A LayerNorm's affine folded into the frozen weights of the matmuls reading it (codegen/norm-affine.ts):
// where norms are matmul prologues (CPU adapters) the matmul then loads x and the scaled weight only,
// and the scaled weight and the bias row are computed once (parameter-derived). Checked against the
// float64 reference over generated configurations: one or two matmuls reading the norm (the rows
// through a reshape or not), residual epilogues, frozen and trainable weights, a norm also read
// elsewhere (no fold), and a write of γ afterwards (the scaled weight follows it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { layerNorm } from '../../src/core/ir/nn.ts';
import { compileGraph, DEFAULT_LIMITS } from '../../codegen/compile.ts';
import { foldNormAffine, MAX_FOLDED_WEIGHT } from '../../codegen/norm-affine.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { assertClose, gpu } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

interface Case {
  readonly B: number;
  readonly T: number;
  readonly K: number;
  readonly N: readonly number[];
  /** Rows through a reshape to [B·T, K] (a linear layer), else the batched [B, T, K] product. */
  readonly flat: boolean;
  readonly trainable: boolean;
  /** The norm's output is also an output of the graph (stored: nothing to fold). */
  readonly alsoRead: boolean;
  readonly residual: boolean;
}

function buildCase(c: Case): Graph {
  const g = new GraphBuilder();
  const x = g.input('x', [c.B, c.T, c.K]);
  const y = layerNorm(x.mul(2).add(0.5), g.param('gamma', [c.K]), g.param('beta', [c.K]), 1e-5);
  const rows = c.flat ? y.reshape([c.B * c.T, c.K]) : y;
  c.N.forEach((n, i) => {
    const w = g.param(`w${i}`, [n, c.K], { trainable: c.trainable && i === 0 });
    let out = rows.matmul(w.transpose()).add(g.param(`b${i}`, [n]));
    if (c.residual && n === c.K) out = out.add(c.flat ? x.reshape([c.B * c.T, c.K]) : x);
    g.output(`y${i}`, out);
  });
  if (c.alsoRead) g.output('norm', y);
  return g.build();
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  T: fc.integer({ min: 1, max: 21 }),
  K: fc.constantFrom(4, 8, 16, 20, 32),
  N: fc.array(fc.constantFrom(3, 8, 16, 20, 32), { minLength: 1, maxLength: 2 }),
  flat: fc.boolean(),
  // Mostly foldable: a frozen weight, the norm read by the matmuls only.
  trainable: fc.constantFrom(false, false, true),
  alsoRead: fc.constantFrom(false, false, true),
  residual: fc.boolean(),
});

test('foldNormAffine: folds where every reader is a matmul with a frozen weight, and only there', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const folded = foldNormAffine(buildCase(c));
      const want = !c.trainable && !c.alsoRead;
      assert.equal(folded !== undefined, want, JSON.stringify(c));
      if (!folded) return;
      // γ and β are read by the scaled weight and the bias row only: no node adds β to activations.
      const beta = folded.params.find((p) => p.attrs.name === 'beta')!;
      for (const n of folded.nodes) if (n.inputs.includes(beta.id)) assert.ok(n.type.shape.length <= 2 && n.type.shape[0] === 1, `β read by ${n.op}[${n.type.shape}]`);
    }),
    fcParams(200),
  );
});

test('norm affine folded into frozen weights (CPU adapters): matches float64, the matmuls read neither γ nor β, and a write of γ is followed', async () => {
  const ctx = await gpu();
  const limits = deviceLimits(ctx);
  let folded = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async (c, seed) => {
      const graph = buildCase(c);
      const plan = compileGraph(graph, { limits: { ...limits, adapterClass: 'cpu' } });
      const names = [...graph.outputs.keys()];
      const gammaId = plan.graph.params.find((p) => p.attrs.name === 'gamma')!.id;
      const readsGamma = plan.kernels.filter((k) => k.matmul && k.bindings.some((b) => b.tensor === gammaId));
      if (!c.trainable && !c.alsoRead) {
        folded++;
        assert.deepEqual(readsGamma.filter((k) => k.matmul!.signature.M > 1).map((k) => k.name), [], 'no product over the rows reads γ');
        assert.ok(plan.steps.some((s) => s.parameterDerived), 'the scaled weights are computed from parameters only');
      }
      const p = await Program.create(ctx, plan);
      try {
        const feeds = randomFeeds(graph, seed);
        p.write(feeds);
        p.run();
        const out = await p.read(names);
        const ref = evaluate(graph, feeds).outputs;
        for (const n of names) assertClose(`${n} ${JSON.stringify(c)}`, out[n]!, ref[n]!.data);
        // A new γ (a fine-tuned checkpoint loaded later): the scaled weights are recomputed.
        const gamma = randomFeeds(graph, seed + 1).gamma!;
        p.write({ gamma });
        p.run();
        const out2 = await p.read(names);
        const ref2 = evaluate(graph, { ...feeds, gamma }).outputs;
        for (const n of names) assertClose(`${n} after writing γ ${JSON.stringify(c)}`, out2[n]!, ref2[n]!.data);
      } finally {
        p.destroy();
      }
    }),
    fcParams(16),
  );
  assert.ok(folded >= 5, `some cases were folded (${folded})`);
});

test('the fold applies to CPU-class plans only, and can be turned off', () => {
  const graph = buildCase({ B: 2, T: 5, K: 16, N: [16], flat: true, trainable: false, alsoRead: false, residual: false });
  const kernels = (o: Parameters<typeof compileGraph>[1]) => compileGraph(graph, o).kernels.length;
  const cpu = { ...DEFAULT_LIMITS, adapterClass: 'cpu' as const, subgroupSize: 8 };
  assert.ok(kernels({ limits: cpu }) > kernels({ limits: cpu, foldNormAffine: false }), 'folded: the scaled weight and bias row are kernels of their own');
  const gpuClass = { ...cpu, adapterClass: 'gpu' as const };
  assert.equal(kernels({ limits: gpuClass }), kernels({ limits: gpuClass, foldNormAffine: false }));
});

test('weights over MAX_FOLDED_WEIGHT elements are left alone (each folded weight is copied)', () => {
  const at = (n: number) => foldNormAffine(buildCase({ B: 1, T: 2, K: 1024, N: [n], flat: true, trainable: false, alsoRead: false, residual: false }));
  assert.ok(at(MAX_FOLDED_WEIGHT / 1024) !== undefined, 'a weight of MAX_FOLDED_WEIGHT elements is folded');
  assert.equal(at(MAX_FOLDED_WEIGHT / 1024 + 1), undefined, 'a bigger one is not');
});
