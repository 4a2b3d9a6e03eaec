// LayerNorm statistics from the producer (codegen/granule-statistics.ts, fusion pass
// fuse-epilogue-granules): the matmul writing a norm's input computes per-64-column sums in its
// epilogue, and the matmul reading the norm combines them in its prologue, so the norm has no kernel
// of its own on GPUs at any size. Checked over generated configurations against the float64
// reference: the rewrite alone (interpreter), then GPU-class plans run on this machine's adapter
// (row counts past a tile, batched products, residual epilogues, a mean far from zero, two readers,
// row counts read at run time or constants, ViTs with FPET and ToMe, a training step).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { layerNorm } from '../../src/core/ir/nn.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { granuleStatistics, GRANULE } from '../../codegen/granule-statistics.ts';
import { compileGraph, type Specialize } from '../../codegen/compile.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';
import type { VitConfig } from '../../src/fpet/models/vit.ts';
import { checkAgainstReference } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

interface Case {
  readonly rows: number;
  /** Norm width in granules. */
  readonly granules: number;
  readonly hidden: number;
  /** The norm's input is a product plus a residual (the residual stream), else the product with a bias. */
  readonly residual: boolean;
  /** A constant added to the norm's input: a mean far from zero (cancellation in Σx² − n·mean²). */
  readonly offset: number;
  /** A second matmul reads the norm too (qkv and an adapter). */
  readonly twoReaders: boolean;
  /** Rows as [images, rows] (a batched product, as attention's projection), else [rows]. */
  readonly images: number;
  /** Rows of another input concatenated before the product's (FPET's cls | merged tokens); 0: none. */
  readonly leading: number;
  /** Rows of the product itself, gathered at run time, concatenated before it (ToMe's cls | kept tokens); 0: none. */
  readonly gathered: number;
}

/** The run-time rows the gathered part reads. */
const gatheredRows = (c: Case): number[] => Array.from({ length: Math.max(1, c.images) * c.gathered }, (_, i) => (i * 7 + 3) % c.rows);

function buildCase(c: Case): Graph {
  const g = new GraphBuilder();
  const D = c.granules * GRANULE;
  const rows = c.images > 1 ? [c.images, c.rows] : [c.rows];
  const h = g.input('h', [...rows, c.hidden]);
  const r = g.input('r', [...rows, D]);
  let x = h.matmul(g.param('w1', [c.hidden, D])).add(g.param('b1', [D]));
  if (c.residual) x = x.add(r);
  x = x.add(c.offset);
  // One concatenation, as a merge's output: [lead | gathered rows of x | x].
  const axis = rows.length - 1;
  const parts = [
    ...(c.leading ? [g.input('lead', [...rows.slice(0, -1), c.leading, D])] : []),
    ...(c.gathered ? [x.gather(g.input('rows', [...rows.slice(0, -1), c.gathered], 'i32'), axis)] : []),
  ];
  if (parts.length) x = g.concat([...parts, x], axis);
  const y = layerNorm(x, g.param('gamma', [D]), g.param('beta', [D]));
  g.output('out', y.matmul(g.param('w2', [D, 48])));
  if (c.twoReaders) g.output('out2', y.matmul(g.param('w3', [D, 8])).relu());
  return g.build();
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  rows: fc.integer({ min: 1, max: 150 }),
  granules: fc.integer({ min: 2, max: 4 }),
  hidden: fc.constantFrom(8, 24, 64),
  residual: fc.boolean(),
  offset: fc.constantFrom(0, 0, 3, 40),
  twoReaders: fc.boolean(),
  images: fc.constantFrom(1, 1, 3),
  leading: fc.constantFrom(0, 0, 1, 5),
  gathered: fc.constantFrom(0, 0, 1, 4),
});

test('granuleStatistics: the rewritten graph computes what the original does (float64)', () => {
  fc.assert(
    fc.property(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), (c, seed) => {
      const graph = buildCase(c);
      const rewritten = granuleStatistics(graph);
      // Only a norm read by one matmul (what a matmul prologue computes) is rewritten.
      assert.equal(rewritten !== undefined, !c.twoReaders, 'a norm over a product, read by one matmul, is rewritten');
      if (!rewritten) return;
      const feeds = { ...randomFeeds(graph, seed), ...(c.gathered ? { rows: gatheredRows(c) } : {}) };
      const want = evaluate(graph, feeds), got = evaluate(rewritten, feeds);
      for (const name of graph.outputs.keys()) {
        const a = want.outputs[name]!.data, b = got.outputs[name]!.data;
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-9 * Math.max(1, Math.abs(a[i]!)), `${name}[${i}]: ${b[i]} vs ${a[i]}`);
      }
    }),
    fcParams(60),
  );
});

test('granuleStatistics: norms over fewer than two granules, or not over a product, are left alone', () => {
  const g = new GraphBuilder();
  const x = g.input('x', [4, 128]);
  g.output('a', layerNorm(x, g.param('g1', [128]), g.param('b1', [128])));
  const p = g.input('h', [4, 8]).matmul(g.param('w', [8, 64]));
  g.output('b', layerNorm(p, g.param('g2', [64]), g.param('b2', [64])));
  assert.equal(granuleStatistics(g.build()), undefined);
});

/** The plan's kernels in launch order, for messages. */
const kernelList = (plan: ReturnType<typeof compileGraph>) => plan.kernels.map((k) => `${k.name} (${k.config})`).join(', ');

test('GPU-class plans: the norm has no kernel of its own, its sums come from the producer, and the outputs match float64', { timeout: 900_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), fc.constantFrom('rows', 'all') as fc.Arbitrary<Specialize>, async (c, seed, specialize) => {
      const graph = buildCase(c);
      const feeds = { ...randomFeeds(graph, seed), ...(c.gathered ? { rows: gatheredRows(c) } : {}) };
      const plan = await checkAgainstReference(graph, feeds, { limits: { adapterClass: 'gpu' }, specialize });
      const withSums = plan.kernels.filter((k) => k.ir.moduleArrays.some((a) => a.hint === 'gpart'));
      // A norm two matmuls read keeps its kernel (stored once, read twice).
      assert.equal(withSums.length, c.twoReaders ? 0 : 1, `the producer computes granule sums: ${kernelList(plan)}`);
      // Concatenated rows: the leading part's sums take a small kernel of their own; rows gathered
      // from the product take its sums, gathered alike.
      const kinds = plan.kernels.map((k) => k.kind).filter((k) => !c.leading || k === 'matmul');
      if (!c.twoReaders) assert.deepEqual(kinds, ['matmul', 'matmul'], `two matmuls, the producer and the one reading the norm: ${kernelList(plan)}`);
      if (!c.twoReaders) assert.equal(plan.kernels.length, c.leading ? 3 : 2, kernelList(plan));
    }),
    fcParams(12),
  );
});

// A small ViT wide enough for granule sums (dim 128: two granules per row).
const VIT: VitConfig = { imageSize: 8, patchSize: 2, inChannels: 1, dim: 128, depth: 2, heads: 2, mlpRatio: 2, numClasses: 5, representationSize: 0 };

// Block 1's first norm reads block 0's fc2 plus the residual, each block's second one its
// attention's projection plus the residual, or a merge's output: cls | merged tokens (FPET at the
// reference ratio, all of set A merged) and cls | kept | merged (FPET merging fewer, ToMe) take the
// merged tokens' sums from the merge's product, and the cls and kept rows' (rows of the pre-merge
// sequence) from the projection's, gathered alike.
const VIT_CASES = [
  { label: 'AdaptFormer', merge: undefined, producers: 3 },
  { label: 'AdaptFormer + FPET (all of A merged)', merge: { kind: 'fpet', blocks: [1], ratio: 0.5 }, producers: 4 },
  { label: 'AdaptFormer + FPET (3 of 8 merged)', merge: { kind: 'fpet', blocks: [1], ratio: 3 / 16 }, producers: 4 },
  { label: 'AdaptFormer + ToMe', merge: { kind: 'tome', blocks: [0, 1], r: 3 }, producers: 5 },
] as const;

for (const c of VIT_CASES) {
  test(`GPU-class ViT forward at dim 128, ${c.label}: norms after a matmul take their sums from it, matches float64`, { timeout: 600_000 }, async () => {
    const merge = c.merge ? { merge: { ...DEFAULT_MERGE, ...c.merge, blocks: [...c.merge.blocks] } } : {};
    const graph = buildModel({ vit: VIT, batch: 3, pet: DEFAULT_PET.adaptformer, ...merge }).graph;
    const plan = await checkAgainstReference(graph, randomFeeds(graph, 5), { limits: { adapterClass: 'gpu' } });
    const producers = plan.kernels.filter((k) => k.ir.moduleArrays.some((a) => a.hint === 'gpart'));
    assert.equal(producers.length, c.producers, `granule sums in ${producers.length} matmuls: ${kernelList(plan)}`);
  });
}

test('GPU-class ViT training step at dim 128: where a norm of the step takes its sums from the producer, matches float64', { timeout: 600_000 }, async () => {
  const spec: ModelSpec = { vit: VIT, batch: 2, pet: DEFAULT_PET.adaptformer, training: { dropout: 0, dropPath: 0 } };
  const graph = gradients(buildModel(spec).graph, { loss: 'loss' });
  const plan = await checkAgainstReference(graph, randomFeeds(graph, 9), { limits: { adapterClass: 'gpu' } });
  // Block 0's second norm: nothing trainable below its input, so its backward is pruned.
  assert.ok(plan.kernels.some((k) => k.ir.moduleArrays.some((a) => a.hint === 'gpart')), kernelList(plan));
});
