// Every matmul variant (each configuration the code generator offers for the problem, both
// orientations, subgroup and plain vec4, the tiled baseline) against the float64 reference, over
// random shapes (unaligned ones included: M, N, K not multiples of 4, tails of every tile), with
// batch axes (broadcast ones included), fused prologues (transposed weights, LayerNorm output,
// gathered rows, a strided head slice of a wider tensor, an elementwise expression) and fused
// epilogues (bias, GELU, residual through a reshape, a transposed store).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SMALL_REDUCTION } from '../../codegen/fusion/small-reductions.ts';
import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { gelu, layerNorm } from '../../src/core/ir/nn.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { compileGraph, DEFAULT_LIMITS, type CompiledPlan } from '../../codegen/compile.ts';
import { describeVariant, type MatmulVariant } from '../../kernels/matmul-variants.ts';
import { tiledConfig } from '../../kernels/matmul-tiled.ts';
import { walkStmts } from '../../kernels/ir.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { assertClose, gpu } from '../support/gpu.ts';
import { fcParams, rngFrom, uniform } from '../support/random.ts';

const A_FORMS = ['plain', 'transposed', 'layerNorm', 'gather', 'expr'] as const;
const B_FORMS = ['plain', 'weight', 'heads', 'expr'] as const;
const EPILOGUES = ['none', 'bias', 'gelu', 'residual', 'transpose'] as const;

interface Case {
  readonly batch: readonly number[];
  /** Whether A / B have the batch axes (else they broadcast over them). */
  readonly aBatched: boolean;
  readonly bBatched: boolean;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: (typeof A_FORMS)[number];
  readonly b: (typeof B_FORMS)[number];
  readonly epilogue: (typeof EPILOGUES)[number];
  readonly seed: number;
}

// Sizes: small unaligned ones and multiples of 4 (the vector paths), some past one tile.
const dim = fc.oneof(fc.integer({ min: 1, max: 23 }), fc.constantFrom(4, 8, 12, 16, 20, 32, 36, 40));
const caseArb: fc.Arbitrary<Case> = fc.record({
  batch: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
  aBatched: fc.boolean(),
  bBatched: fc.boolean(),
  M: dim, N: dim, K: dim,
  a: fc.constantFrom(...A_FORMS),
  b: fc.constantFrom(...B_FORMS),
  epilogue: fc.constantFrom(...EPILOGUES),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

/** Graph inputs with uniform random feeds (in [lo, hi], by default [-1, 1]) drawn from `seed`. */
function randomInputs(g: GraphBuilder, seed: number) {
  const rng = rngFrom(seed);
  const feeds: Record<string, number[]> = {};
  const input = (name: string, shape: readonly number[], lo = -1, hi = 1) => {
    feeds[name] = uniform(rng, numel(shape), lo, hi);
    return g.input(name, [...shape]);
  };
  return { feeds, input, rng };
}

function buildCase(c: Case): { graph: Graph; feeds: Record<string, number[]> } {
  const g = new GraphBuilder();
  const { feeds, input } = randomInputs(g, c.seed);
  const aB = c.aBatched ? c.batch : [], bB = c.bBatched ? c.batch : [];
  let a: Tensor;
  switch (c.a) {
    case 'plain': a = input('a', [...aB, c.M, c.K]); break;
    case 'transposed': a = input('a', [...aB, c.K, c.M]).transpose(); break;
    case 'layerNorm': a = layerNorm(input('a', [...aB, c.M, c.K]), input('g', [c.K]), input('h', [c.K]), 1e-5); break;
    case 'gather': {
      const rows = c.M + 2;
      const idx = Array.from({ length: c.M }, (_, i) => (i * 7 + 3) % rows);
      a = input('a', [...aB, rows, c.K]).gather(g.constant(idx, [...aB.map(() => 1), c.M], 'i32'), aB.length);
      break;
    }
    case 'expr': a = input('a', [...aB, c.M, c.K]).tanh().mul(input('s', [c.K])); break;
  }
  let b: Tensor;
  switch (c.b) {
    case 'plain': b = input('b', [...bB, c.K, c.N]); break;
    case 'weight': b = input('w', [c.N, c.K]).transpose(); break;
    case 'heads': {
      // A slice of a wider tensor viewed as heads: qkv[..., k, 3N] -> the middle N columns.
      b = input('qkv', [...bB, c.K, 3 * c.N]).narrow(-1, c.N, c.N);
      break;
    }
    case 'expr': b = input('b', [...bB, c.K, c.N]).exp().sub(1); break;
  }
  let y = a.matmul(b);
  const outShape = y.shape;
  switch (c.epilogue) {
    case 'none': break;
    case 'bias': y = y.add(input('bias', [c.N])); break;
    case 'gelu': y = gelu(y.add(input('bias', [c.N]))); break;
    case 'residual': {
      // Through a reshape that merges the leading axes (rows of a linear layer).
      const rows = numel(outShape.slice(0, -1));
      y = y.reshape([rows, c.N]).add(input('res', [rows, c.N]));
      break;
    }
    case 'transpose': y = y.mul(0.5).transpose(); break;
  }
  g.output('y', y);
  return { graph: g.build(), feeds };
}

async function runPlan(plan: CompiledPlan, feeds: Record<string, number[]>) {
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

let checked = 0;
const seenVariants = new Map<string, number>();

test('matmul variants: every offered variant matches the float64 reference (random shapes, prologues, epilogues, batches)', async () => {
  const ctx = await gpu();
  const limits = deviceLimits(ctx);
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const { graph, feeds } = buildCase(c);
      const ref = evaluate(graph, feeds).outputs.y!.data;
      const base = compileGraph(graph, { limits });
      const mm = base.kernels.filter((k) => k.matmul);
      assert.equal(mm.length, 1, `one matmul kernel expected, got ${base.kernels.map((k) => k.name).join(', ')}`);
      const offered = mm[0]!.matmul!.offered;
      // A LayerNorm computed in the matmul's kernel (row statistics before its k loop) is read
      // by every design but a swapped one; the tiled baseline is always offered.
      const normInKernel = c.a === 'layerNorm' && base.kernels.length === 1;
      if (normInKernel) assert.ok(offered.every((v) => v.name === 'tiled' || !v.config.swap), 'a normalised row operand: no swapped variant');
      assert.ok(offered.some((v) => v.name === 'tiled'), 'the tiled baseline is always offered');
      for (const v of offered) {
        const label = describeVariant(v);
        const plan = compileGraph(graph, { limits, matmulVariant: () => v, variantKey: `test ${JSON.stringify(v)}` });
        const k = plan.kernels.find((x) => x.matmul)!;
        assert.equal(describeVariant(k.matmul!.variant), label);
        assert.ok(k.config.startsWith(v.name), `config "${k.config}" names the variant ${v.name}`);
        const out = await runPlan(plan, feeds);
        assertClose(`${label} ${k.config} ${JSON.stringify(c)}`, out.y!, ref);
        const key = `${v.name}${v.name !== 'tiled' && v.config.swap ? ' swap' : ''}`;
        seenVariants.set(key, (seenVariants.get(key) ?? 0) + 1);
        checked++;
      }
    }),
    fcParams(14),
  );
  console.log(`matmul variants: ${checked} (case, variant) pairs checked; ${[...seenVariants].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const name of ['subgroup', 'subgroup swap', 'vec4', 'vec4 swap', 'tiled']) {
    if (name.startsWith('subgroup') && !ctx.info.subgroupSize) continue;
    assert.ok(seenVariants.has(name), `variant ${name} was never exercised`);
  }
});

test('matmul variants, GPU class: the 128-row tiles (tuner-only, never a default) match the float64 reference past their tiles', async () => {
  const ctx = await gpu();
  const limits = { ...deviceLimits(ctx), adapterClass: 'gpu' as const };
  let large = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        M: fc.integer({ min: 128, max: 300 }), N: fc.integer({ min: 64, max: 300 }), K: fc.integer({ min: 8, max: 70 }),
        batch: fc.constantFrom(1, 2), epilogue: fc.constantFrom('none', 'gelu', 'residual'), seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ M, N, K, batch, epilogue, seed }) => {
        const g = new GraphBuilder();
        const { feeds, input } = randomInputs(g, seed);
        let y = input('a', [batch, M, K]).matmul(input('w', [K, N]));
        if (epilogue === 'gelu') y = gelu(y.add(input('bias', [N])));
        if (epilogue === 'residual') y = y.add(input('r', [batch, M, N]));
        g.output('y', y);
        const graph = g.build();
        const ref = evaluate(graph, feeds).outputs.y!.data;
        const base = compileGraph(graph, { limits });
        const info = base.kernels.find((k) => k.matmul)!.matmul!;
        assert.ok(!describeVariant(info.variant).startsWith('tiled 128'), 'a 128-row tile is never the default');
        for (const v of info.offered.filter((o) => o.name === 'tiled' && o.config.tm === 8)) {
          const plan = compileGraph(graph, { limits, matmulVariant: () => v, variantKey: `test ${JSON.stringify(v)}` });
          assertClose(`${describeVariant(v)} ${JSON.stringify({ M, N, K, batch, epilogue })}`, (await runPlan(plan, feeds)).y!, ref);
          large++;
        }
      },
    ),
    fcParams(8),
  );
  assert.ok(large >= 8, `128-row tiles offered and checked (${large})`);
});

test('matmul variants: requirements are checked before a variant is offered', () => {
  const b = new GraphBuilder();
  b.output('y', b.input('a', [9, 13]).matmul(b.input('b', [13, 6])));
  const graph = b.build();
  const names = (subgroupSize: number) => new Set(compileGraph(graph, { limits: { ...DEFAULT_LIMITS, subgroupSize } }).kernels[0]!.matmul!.offered.map((v) => v.name));
  assert.deepEqual(names(0), new Set(['vec4', 'tiled']), 'no subgroups: no subgroup variant');
  assert.deepEqual(names(8), new Set(['subgroup', 'vec4', 'tiled']));
  const sg = compileGraph(graph, { limits: { ...DEFAULT_LIMITS, subgroupSize: 4 } }).kernels[0]!.matmul!.offered.filter((v): v is Extract<MatmulVariant, { name: 'subgroup' }> => v.name === 'subgroup');
  assert.ok(sg.length > 0 && sg.every((v) => v.config.lanes === 4), 'subgroup variants use the adapter\'s subgroup size');
  // Defaults: CPU adapters the subgroup design (vec4 without subgroups), GPUs the tiled one.
  const chosen = (l: Partial<typeof DEFAULT_LIMITS>) => compileGraph(graph, { limits: { ...DEFAULT_LIMITS, ...l } }).kernels[0]!.config.split(' ')[0];
  assert.equal(chosen({ subgroupSize: 8, adapterClass: 'cpu' }), 'subgroup');
  assert.equal(chosen({ subgroupSize: 0, adapterClass: 'cpu' }), 'vec4');
  assert.equal(chosen({ subgroupSize: 32, adapterClass: 'gpu' }), 'tiled');
  // A forced name applies where offered.
  assert.equal(compileGraph(graph, { limits: DEFAULT_LIMITS, matmulVariant: 'tiled' }).kernels[0]!.config.split(' ')[0], 'tiled');
});

test('split-K: partial products over K chunks plus a reduction match the float64 reference (weight-gradient shapes, tails, epilogues)', async () => {
  const ctx = await gpu();
  const limits = deviceLimits(ctx);
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        M: fc.integer({ min: 1, max: 20 }), N: fc.integer({ min: 1, max: 20 }), T: fc.integer({ min: 2, max: 90 }),
        batch: fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }),
        splits: fc.integer({ min: 2, max: 7 }), transposedStore: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ M, N, T, batch, splits, transposedStore, seed }) => {
        const g = new GraphBuilder();
        const { feeds, input } = randomInputs(g, seed);
        // dW = dYᵀ·X (tokens contracted), stored transposed or scaled, like a weight gradient.
        const dy = input('dy', [...batch, T, M]), x = input('x', [...batch, T, N]);
        const w = dy.transpose().matmul(x);
        g.output('y', transposedStore ? w.transpose() : w.mul(input('s', [N])).add(1));
        const graph = g.build();
        const plan = compileGraph(graph, { limits, splitK: splits });
        // A reduction kernel sums the partials; a few (≤ SMALL_REDUCTION) are summed by the kernel reading them (inline-small-reductions).
        const summedInPlace = Math.min(splits, T) <= SMALL_REDUCTION;
        assert.ok(summedInPlace || plan.kernels.some((k) => k.kind === 'reduce' || k.kind === 'row'), `a reduction sums the partials: ${plan.kernels.map((k) => k.name).join(', ')}`);
        // Stored transposed: the partials are stored transposed and summed into the result; no kernel transposes the sum.
        if (transposedStore && !summedInPlace) assert.equal(plan.kernels.filter((k) => k.kind === 'map').length, 0, `no transposing kernel: ${plan.kernels.map((k) => k.name).join(', ')}`);
        const out = await runPlan(plan, feeds);
        assertClose(`split-K ${JSON.stringify({ M, N, T, batch, splits, transposedStore })}`, out.y!, evaluate(graph, feeds).outputs.y!.data);
      },
    ),
    fcParams(10),
  );
  // The default policy splits only on GPUs, only small outputs with long contractions.
  const b = new GraphBuilder();
  b.output('w', b.input('dy', [4096, 16]).transpose().matmul(b.input('x', [4096, 32])));
  const graph = b.build();
  const kinds = (adapterClass: 'cpu' | 'gpu') => compileGraph(graph, { limits: { ...DEFAULT_LIMITS, adapterClass } }).kernels.map((k) => k.kind);
  assert.deepEqual(kinds('cpu'), ['matmul']);
  assert.ok(kinds('gpu').length === 2 && kinds('gpu')[0] === 'matmul', `GPU: split ${kinds('gpu')}`);
});

test('tiled: thin outputs (an adapter down-projection, n < 16) keep 256 invocations in taller tiles, and match float64', async () => {
  const ctx = await gpu();
  const limits = { ...deviceLimits(ctx), adapterClass: 'gpu' as const };
  let tall = 0;
  for (const [M, N, K] of [[300, 8, 16], [1000, 3, 40], [128, 12, 5], [260, 1, 9], [90, 8, 16]] as const) {
    const c: Case = { batch: [], aBatched: false, bBatched: false, M, N, K, a: A_FORMS[0], b: B_FORMS[0], epilogue: EPILOGUES[0], seed: M + N + K };
    const { graph, feeds } = buildCase(c);
    const plan = compileGraph(graph, { limits, matmulVariant: 'tiled' });
    const k = plan.kernels.find((x) => x.matmul)!;
    const [wx, wy] = k.workgroupSize;
    if (wx! * wy! === 256 && wy! > 16) tall++;
    assertClose(`tiled ${M}x${N}x${K} ${k.config}`, (await runPlan(plan, feeds)).y!, evaluate(graph, feeds).outputs.y!.data);
  }
  assert.ok(tall >= 3, `taller tiles for the tall thin problems (${tall})`);
});

test('tiledConfig (property): both tiles fit the workgroup memory given (WebGPU\'s 16 KiB by default), at most 256 invocations or the narrower workgroup asked for', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 3072 }), fc.integer({ min: 1, max: 3072 }), fc.constantFrom(16384, 32768, 49152), fc.constantFrom(8, 32, 64, 1024), (m, n, k, bytes, invocations) => {
      const c = tiledConfig(m, n, k, invocations, bytes);
      assert.ok((c.wy * c.tm * c.bk + c.bk * c.wx * c.tn) * 4 <= bytes, JSON.stringify(c));
      assert.ok(c.wx * c.wy <= Math.min(256, invocations) && c.wx * c.wy >= 1, JSON.stringify(c));
    }),
    fcParams(300),
  );
});

/** The k loops of a matmul kernel (k for the vec4 and subgroup designs, k0 for the tiled one). */
function kLoops(k: CompiledPlan['kernels'][number]): number {
  let n = 0;
  walkStmts(k.ir.body, (s) => { if (s.k === 'loop' && (s.x.hint === 'k' || s.x.hint === 'k0')) n++; });
  return n;
}

test('matmul over a concatenation along k (pads summed, as a sliced product\'s gradient, or a concat): every variant splits its k loop at the aligned edges and matches float64', async () => {
  const ctx = await gpu();
  const limits = deviceLimits(ctx);
  let split = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        M: dim, N: dim,
        parts: fc.array(fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(4, 8, 16, 32)), { minLength: 1, maxLength: 4 }),
        form: fc.constantFrom('pads', 'concat'),
        expr: fc.boolean(), bias: fc.boolean(), weight: fc.boolean(),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async ({ M, N, parts, form, expr, bias, weight, seed }) => {
        const g = new GraphBuilder();
        const { feeds, input, rng } = randomInputs(g, seed);
        const K = parts.reduce((s, p) => s + p, 0);
        // Parts: inputs, some through an expression (computed where the matmul reads them).
        const xs = parts.map((p, i) => (expr && i % 2 === 1 ? input(`p${i}`, [M, p]).tanh() : input(`p${i}`, [M, p])));
        const offsets = parts.map((_, i) => parts.slice(0, i).reduce((s, p) => s + p, 0));
        const a = form === 'concat' ? g.concat(xs, 1) : xs.map((x, i) => x.pad([0, offsets[i]!], [0, K - offsets[i]! - parts[i]!])).reduce((s, x) => s.add(x));
        // A weight's K is a constant of the code; an input's is read at run time (no split then).
        const w = weight ? g.param('w', [N, K]) : input('w', [N, K]);
        if (weight) feeds.w = uniform(rng, N * K, -1, 1);
        let y = a.matmul(w.transpose());
        if (bias) y = y.add(input('bias', [N]));
        g.output('y', y);
        const graph = g.build();
        const ref = evaluate(graph, feeds).outputs.y!.data;
        const offered = compileGraph(graph, { limits }).kernels.find((k) => k.matmul)!.matmul!.offered;
        for (const v of offered) {
          const plan = compileGraph(graph, { limits, matmulVariant: () => v, variantKey: `concat ${JSON.stringify(v)}` });
          assert.equal(plan.kernels.length, 1, `the concatenation is computed in the matmul's kernel: ${plan.kernels.map((k) => k.name).join(', ')}`);
          const k = plan.kernels[0]!;
          // Edges the loop can split at: multiples of its step (4, or the tiled design's k tile), inside K's vector part.
          const step = v.name === 'tiled' ? Number(/x(\d+) reg/.exec(k.config)![1]) : 4;
          const swapped = v.name !== 'tiled' && v.config.swap;
          const aligned = swapped || !weight ? 0 : offsets.filter((o) => o > 0 && o % step === 0 && o < (v.name === 'tiled' ? K : K - (K % 4))).length;
          const tail = v.name !== 'tiled' && K % 4 !== 0 ? 1 : 0;
          const vector = v.name === 'tiled' || K >= 4 ? 1 : 0;
          assert.equal(kLoops(k), (vector ? 1 + aligned : 0) + tail, `${describeVariant(v)} ${k.config}: k loops for edges ${offsets} of K ${K}`);
          if (aligned) split++;
          assertClose(`${describeVariant(v)} ${k.config} ${JSON.stringify({ M, N, parts, form, expr, bias, weight })}`, (await runPlan(plan, feeds)).y!, ref);
        }
      },
    ),
    fcParams(10),
  );
  assert.ok(split > 5, `some k loops were split (${split})`);
});

test('tiled: a LayerNorm computed in the matmul (its rows\' statistics per tile, by all threads, combined in workgroup memory) matches float64 (property)', async () => {
  const ctx = await gpu();
  const limits = { ...deviceLimits(ctx), adapterClass: 'gpu' as const };
  let checkedTiles = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        batch: fc.constantFrom([] as number[], [2], [3, 2]),
        // Rows past one tile, not multiples of it; features a multiple of 4 (the pass fuses norms
        // read as vec4s along k), a multiple of the k tile or not.
        M: fc.integer({ min: 1, max: 150 }),
        K: fc.constantFrom(4, 8, 12, 20, 28, 64, 96, 100),
        N: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(8, 64, 72)),
        residual: fc.boolean(),
        offset: fc.double({ min: -40, max: 40, noNaN: true }),
        epilogue: fc.constantFrom('none', 'bias', 'residual'),
        specialize: fc.constantFrom('rows', 'all'),
        // Narrower workgroups too: a small matmul joins a batch of another size in one.
        invocations: fc.constantFrom(8, 32, 64, 256),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async (c) => {
        const g = new GraphBuilder();
        const { feeds, input } = randomInputs(g, c.seed);
        // Rows far from 0 (the residual stream): the shifted moments keep their digits.
        let x = input('x', [...c.batch, c.M, c.K], c.offset - 1, c.offset + 1);
        if (c.residual) x = x.add(input('r', [...c.batch, c.M, c.K]));
        let y = layerNorm(x, input('g', [c.K]), input('h', [c.K]), 1e-6).matmul(input('w', [c.N, c.K]).transpose());
        if (c.epilogue === 'bias') y = y.add(input('bias', [c.N]));
        if (c.epilogue === 'residual') y = y.add(input('res', [...c.batch, c.M, c.N]));
        g.output('y', y);
        const graph = g.build();
        const plan = compileGraph(graph, { limits: { ...limits, maxComputeInvocationsPerWorkgroup: c.invocations }, matmulVariant: 'tiled', specialize: c.specialize as 'rows' | 'all' });
        assert.equal(plan.kernels.length, 1, `the norm is computed in the matmul: ${plan.kernels.map((k) => k.name).join(', ')}`);
        const k = plan.kernels[0]!;
        assert.ok(k.config.startsWith('tiled') && k.ir.moduleArrays.some((a) => a.hint === 'stats'), `${k.config}: statistics in workgroup memory`);
        assertClose(`${k.config} ${JSON.stringify(c)}`, (await runPlan(plan, feeds)).y!, evaluate(graph, feeds).outputs.y!.data);
        checkedTiles++;
      },
    ),
    fcParams(24),
  );
  assert.ok(checkedTiles >= 24);
});
