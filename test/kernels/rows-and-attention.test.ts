// Row kernels (one row per lane with vec4 reads and shared passes; one workgroup per row with a
// barrier tree) and the fused attention kernel (online softmax, with and without subgroups)
// against the float64 reference over random shapes, fixed seeds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { layerNorm, linear, logSoftmax, softmax } from '../../src/core/ir/nn.ts';
import { compileGraph, type CodegenLimits, type CompiledPlan } from '../../codegen/compile.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { assertClose, gpu } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

async function runPlan(plan: CompiledPlan, feeds: Record<string, ArrayLike<number>>) {
  const ctx = await gpu();
  const exe = await Program.create(ctx, plan);
  try {
    const out = await exe.execute(feeds);
    assert.deepEqual(ctx.takeErrors().map((e) => e.message), []);
    return out;
  } finally {
    exe.destroy();
  }
}

async function checkAll(graph: Graph, feeds: Record<string, number[]>, limits: CodegenLimits, what: string, tol?: number): Promise<CompiledPlan> {
  const plan = compileGraph(graph, { limits });
  const out = await runPlan(plan, feeds);
  const ref = evaluate(graph, feeds).outputs;
  for (const name of graph.outputs.keys()) assertClose(`${what} ${name}`, out[name]!, ref[name]!.data, tol);
  return plan;
}

// layerNormFar: rows far from zero (mean ≫ spread), where a plain Σx² − (Σx)²/n would cancel:
// the one-pass moments are shifted by each row's first element.
const ROW_OPS = ['layerNorm', 'layerNormFar', 'softmax', 'logSoftmax', 'rowSum'] as const;

test('row kernels: lanes and workgroups match the float64 reference, forward and backward (random rows)', async () => {
  const ctx = await gpu();
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        rows: fc.oneof(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 16, max: 90 })),
        n: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(4, 16, 64, 100)),
        op: fc.constantFrom(...ROW_OPS),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ rows, n, op, seed }) => {
        const b = new GraphBuilder();
        const x = b.param('x', [rows, n]);
        let y: Tensor;
        switch (op) {
          case 'layerNorm': y = layerNorm(x.mul(2).add(0.5), b.param('g', [n]), b.param('h', [n]), 1e-5); break;
          case 'layerNormFar': y = layerNorm(x.add(300), b.param('g', [n]), b.param('h', [n]), 1e-5); break;
          case 'softmax': y = softmax(x.mul(3)); break;
          case 'logSoftmax': y = logSoftmax(x); break;
          case 'rowSum': y = x.tanh().sum(-1); break;
        }
        b.output('y', y);
        b.output('loss', y.mul(b.input('w', [...y.shape])).sumAll());
        const graph = gradients(b.build(), { loss: 'loss' });
        const feeds = randomFeeds(graph, seed, 1.5);
        for (const adapterClass of ['cpu', 'gpu'] as const) {
          const plan = await checkAll(graph, feeds, { ...deviceLimits(ctx), adapterClass }, `${op} ${rows}x${n} ${adapterClass}`);
          for (const k of plan.kernels) if (k.kind === 'row') for (const word of ['lanes', 'group', 'moments']) if (k.config.includes(word)) seen.add(word);
        }
      },
    ),
    fcParams(12),
  );
  assert.ok(seen.has('lanes') && seen.has('group') && seen.has('moments'), `both row kernel shapes and one-pass moments exercised (${[...seen]})`);
});

test('row kernels on CPU adapters: a few short rows (a loss, a weight\'s statistics) one per lane; a few long rows a workgroup each (float64 reference)', async () => {
  const ctx = await gpu();
  // 1 × 512 (a weight's statistics) and 16 × 10 (a loss) are little work in all: no tree reduction
  // to compile. 2 × 9000 is worth a workgroup per row.
  for (const [rows, n, shape] of [[1, 512, 'lanes'], [3, 40, 'lanes'], [2, 9000, 'group']] as const) {
    const b = new GraphBuilder();
    const x = b.param('x', [rows, n]);
    const y = layerNorm(x.add(0.5), b.param('g', [n]), b.param('h', [n]), 1e-5);
    b.output('y', y);
    b.output('loss', y.mul(b.input('w', [rows, n])).sumAll());
    const graph = gradients(b.build(), { loss: 'loss' });
    const plan = await checkAll(graph, randomFeeds(graph, rows * n, 1.5), { ...deviceLimits(ctx), adapterClass: 'cpu' }, `${rows}x${n}`);
    const rowKernels = plan.kernels.filter((k) => k.kind === 'row' && k.config.includes(`x${n}`));
    assert.ok(rowKernels.length > 0 && rowKernels.every((k) => k.config.startsWith(shape)), `${rows}x${n}: ${rowKernels.map((k) => k.config).join('; ')}`);
  }
});

test('LayerNorm backward in a residual block: Σ dx̂ computed by the kernel that writes dx̂ or dx (lanes and workgroups, float64 reference)', async () => {
  const ctx = await gpu();
  let hosted = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        rows: fc.oneof(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 16, max: 70 })),
        n: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.constantFrom(8, 64)),
        adapter: fc.boolean(),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ rows, n, adapter, seed }) => {
        // A pre-norm residual block's shape: x + W1·LN(x) (+ Wa·x: dx is then the epilogue of Wa's
        // backward matmul; without, dx̂ is computed by the kernel of Σ dx̂ and dx: inline-row-inputs).
        const b = new GraphBuilder();
        const x = b.param('x', [rows, n], { trainable: true });
        const ln = layerNorm(x, b.param('g', [n]), b.param('h', [n]), 1e-5);
        const z = x.add(linear(ln, b.param('w1', [n, n]), b.param('b1', [n])));
        const y = adapter ? z.add(linear(x, b.param('wa', [n, n]), b.param('ba', [n]))) : z;
        b.output('loss', y.mul(b.input('w', [rows, n])).sumAll());
        const graph = gradients(b.build(), { loss: 'loss' });
        const feeds = randomFeeds(graph, seed, 1.5);
        for (const adapterClass of ['cpu', 'gpu'] as const) {
          const plan = await checkAll(graph, feeds, { ...deviceLimits(ctx), adapterClass }, `LN backward ${rows}x${n} ${adapter ? 'with adapter ' : ''}${adapterClass}`);
          // A kernel writing a row sum of its own root (which the sum reads, computed in place).
          const readsRoot = (id: number, root: number): boolean => id === root || graph.node(id).inputs.some((i) => readsRoot(i, root));
          if (plan.kernels.some((k) => k.kind === 'row' && k.outputs.some((o) => o !== k.root && graph.node(o).op === 'sum' && readsRoot(o, k.root)))) hosted++;
        }
      },
    ),
    fcParams(10),
  );
  assert.ok(hosted > 0, 'the row sums were hosted by the kernels writing their inputs');
});

test('LayerNorm as a matmul prologue: statistics per row before the k loop (subgroup and vec4 variants, float64 reference)', async () => {
  const ctx = await gpu();
  let fused = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        B: fc.integer({ min: 1, max: 3 }), T: fc.integer({ min: 1, max: 40 }),
        C: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(16, 64)),
        N: fc.integer({ min: 1, max: 70 }), far: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ B, T, C, N, far, seed }) => {
        const b = new GraphBuilder();
        const x = b.input('x', [B, T, C]);
        const ln = layerNorm(x, b.param('g', [C]), b.param('h', [C]), 1e-6);
        b.output('y', linear(ln, b.param('w', [N, C]), b.param('bias', [N])).tanh());
        const graph = b.build();
        const feeds = randomFeeds(graph, seed, 1.5);
        // Rows far from zero (mean ≫ spread), given as f32 values so that the reference sees the same inputs.
        if (far) feeds.x = feeds.x!.map((v) => Math.fround(300 + v));
        for (const subgroupSize of [ctx.info.subgroupSize, 0]) {
          // Far rows: the mean is an f32 near 300 (steps of 3e-5), whichever kernel computes it, and
          // the matmul sums C such errors (the unfused row kernels measure up to 6e-4 at C = 25 too).
          const plan = await checkAll(graph, feeds, { ...deviceLimits(ctx), subgroupSize, adapterClass: 'cpu' }, `LN prologue ${B}x${T}x${C} -> ${N} sg${subgroupSize}`, far ? 5e-5 * Math.max(C, 4) : 1e-4);
          // Per step (the weight with the norm's affine folded in is computed once, before).
          const derived = new Set(plan.steps.filter((s) => s.parameterDerived).flatMap((s) => s.parts));
          const perStep = plan.kernels.filter((_, i) => !derived.has(i));
          if (perStep.length === 1) fused++;
          else assert.ok(perStep.some((k) => k.kind === 'row'), `without the fusion the norm has its kernel: ${perStep.map((k) => k.name)}`);
        }
      },
    ),
    fcParams(12),
  );
  assert.ok(fused > 0, 'the norm was fused into the matmul');
});

test('a second product in a matmul epilogue (fc2(h) + up(a)): two k loops over one output tile match the float64 reference (vec4, subgroup and tiled variants)', async () => {
  const ctx = await gpu();
  let fused = 0, tiled = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        rows: fc.integer({ min: 1, max: 40 }), K1: fc.integer({ min: 1, max: 40 }), K2: fc.constantFrom(4, 8, 12, 6),
        N: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(16, 64)), scale: fc.constantFrom(1, 0.5), seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ rows, K1, K2, N, scale, seed }) => {
        const b = new GraphBuilder();
        const h = b.input('h', [2, rows, K1]), x = b.input('x', [2, rows, N]);
        const a = linear(x, b.param('wd', [K2, N])).relu();
        const up = linear(a, b.param('wu', [N, K2]));
        b.output('y', linear(h, b.param('w2', [N, K1]), b.param('b2', [N])).add(scale === 1 ? up : up.mul(scale)).add(x));
        const graph = b.build();
        const feeds = randomFeeds(graph, seed, 1.5);
        for (const [subgroupSize, adapterClass] of [[ctx.info.subgroupSize, 'cpu'], [0, 'cpu'], [ctx.info.subgroupSize, 'gpu']] as const) {
          const plan = await checkAll(graph, feeds, { ...deviceLimits(ctx), subgroupSize, adapterClass }, `second product ${rows}x${K1}+${K2} -> ${N} sg${subgroupSize} ${adapterClass}`);
          const matmuls = plan.kernels.filter((k) => k.kind === 'matmul');
          if (matmuls.length === 2) fused++;
          if (matmuls.length === 2 && adapterClass === 'gpu' && matmuls.some((k) => k.config.startsWith('tiled'))) tiled++;
        }
      },
    ),
    fcParams(12),
  );
  assert.ok(fused > 0, 'the adapter product was computed in the epilogue kernel');
  assert.ok(tiled > 0, 'the tiled variant (GPU adapters) computed it too');
});

test('fused attention: softmax(Q·Kᵀ·scale + bias)·V in one kernel matches the float64 reference (subgroups and not)', async () => {
  const ctx = await gpu();
  let fused = 0, split = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        B: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 3 }),
        nq: fc.integer({ min: 1, max: 21 }), nk: fc.integer({ min: 2, max: 21 }),
        d: fc.constantFrom(4, 8, 16, 6), bias: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ B, H, nq, nk, d, bias, seed }) => {
        const b = new GraphBuilder();
        const q = b.input('q', [B, H, nq, d]), k = b.input('k', [B, H, nk, d]), v = b.input('v', [B, H, nk, d]);
        let s = q.matmul(k.transpose()).mul(1 / Math.sqrt(d));
        // Proportional attention's key bias: log of positive sizes, broadcast over heads and queries.
        if (bias) s = s.add(b.input('size', [B, nk]).abs().add(0.5).log().reshape([B, 1, 1, nk]));
        const o = softmax(s).matmul(v).permute([0, 2, 1, 3]).reshape([B, nq, H * d]);
        b.output('y', linear(o, b.param('w', [5, H * d]), b.param('bb', [5])));
        const graph = b.build();
        const feeds = randomFeeds(graph, seed, 1.5);
        // The row-per-lane kernel with and without subgroups, and (adapter class 'gpu') the split-keys one.
        for (const [subgroupSize, adapterClass] of [[ctx.info.subgroupSize, 'cpu'], [0, 'cpu'], [ctx.info.subgroupSize, 'gpu']] as const) {
          const plan = await checkAll(graph, feeds, { ...deviceLimits(ctx), subgroupSize, adapterClass }, `attention B${B} H${H} ${nq}x${nk} d${d} bias ${bias} sg${subgroupSize} ${adapterClass}`);
          const att = plan.kernels.filter((x) => x.kind === 'attention');
          // Head dims that are multiples of 4 are fused; others keep the matmul + softmax kernels.
          assert.equal(att.length, d % 4 === 0 ? 1 : 0, `fused attention kernels: ${plan.kernels.map((x) => x.name).join(', ')}`);
          fused += att.length;
          if (att.some((x) => x.config.includes('split-keys'))) split++;
        }
      },
    ),
    fcParams(12),
  );
  assert.ok(fused > 0);
  if (ctx.info.subgroupSize > 0) assert.ok(split > 0, 'the split-keys kernel was exercised');
});

test('training: fused attention forward, and a backward that recomputes the scores instead of storing the probabilities', () => {
  const b = new GraphBuilder();
  const P = (name: string) => b.param(name, [2, 2, 9, 8], { trainable: true });
  const q = P('q'), k = P('k'), v = P('v');
  b.output('loss', softmax(q.matmul(k.transpose()).mul(0.3)).matmul(v).sumAll());
  const fwd = b.build();
  const limits = { maxStorageBuffersPerShaderStage: 8 };
  const configs = (g: Graph) => compileGraph(g, { limits }).kernels.filter((x) => x.kind === 'attention').map((x) => x.config.split(' ').slice(0, 2).join(' '));
  assert.deepEqual(configs(fwd).length, 1, 'inference: fused');
  const parts = configs(gradients(fwd, { loss: 'loss' }));
  assert.equal(parts.filter((c) => c.startsWith('attention ')).length, 1, `training: the forward is fused (${parts})`);
  // The lse part is written by the forward kernel (it has each row's max and sum at hand).
  assert.deepEqual(parts.filter((c) => c.startsWith('attention-backward')).sort(), ['attention-backward dkv', 'attention-backward dq']);
  const train = gradients(fwd, { loss: 'loss' });
  const forward = compileGraph(train, { limits }).kernels.find((k) => k.config.startsWith('attention sg') || k.config.startsWith('attention wg'))!;
  assert.deepEqual(forward.outputs.map((id) => train.node(id).op), ['matmul', 'attentionBackward']);
  // With the primitive rules the backward reads P, so the forward is not fused and P is stored.
  assert.deepEqual(configs(gradients(fwd, { loss: 'loss', fusedAttention: false })), []);
});

test('attention backward kernels match the float64 reference: dQ, dK, dV and the bias, subgroups and not (random shapes)', async () => {
  const ctx = await gpu();
  let parts = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        B: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 3 }),
        nq: fc.integer({ min: 1, max: 21 }), nk: fc.integer({ min: 1, max: 21 }),
        d: fc.constantFrom(4, 8, 16, 6, 3), dv: fc.constantFrom(4, 8, 5), bias: fc.constantFrom('none', 'constant', 'trainable'),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ B, H, nq, nk, d, dv, bias, seed }) => {
        const b = new GraphBuilder();
        const P = (name: string, shape: number[]) => b.param(name, shape, { trainable: true });
        // Q, K and V from one projection with a bias, as a ViT block computes them (views over a stored matmul).
        const x = b.input('x', [B, nq, 6]);
        const q = linear(x, P('wq', [H * d, 6])).reshape([B, nq, H, d]).permute([0, 2, 1, 3]);
        const k = P('k', [B, H, nk, d]), v = P('v', [B, H, nk, dv]);
        let s = q.matmul(k.transpose()).mul(1 / Math.sqrt(d));
        if (bias !== 'none') s = s.add(b.param('size', [B, nk], { trainable: bias === 'trainable' }).abs().add(0.5).log().reshape([B, 1, 1, nk]));
        const o = softmax(s).matmul(v).permute([0, 2, 1, 3]).reshape([B, nq, H * dv]);
        b.output('loss', linear(o, P('w', [5, H * dv]), P('bb', [5])).mul(b.input('t', [B, nq, 5])).sumAll());
        const graph = gradients(b.build(), { loss: 'loss' });
        const feeds = randomFeeds(graph, seed, 1.5);
        // adapter class 'gpu' with subgroups: the split-keys forward writes the lse the backward reads.
        for (const [subgroupSize, adapterClass] of [[ctx.info.subgroupSize, 'cpu'], [0, 'cpu'], [ctx.info.subgroupSize, 'gpu']] as const) {
          const plan = await checkAll(graph, feeds, { ...deviceLimits(ctx), subgroupSize, adapterClass }, `attention backward B${B} H${H} ${nq}x${nk} d${d}/${dv} bias ${bias} sg${subgroupSize} ${adapterClass}`);
          parts += plan.kernels.filter((k) => k.config.startsWith('attention-backward')).length;
        }
      },
    ),
    fcParams(14),
  );
  assert.ok(parts > 0);
});
