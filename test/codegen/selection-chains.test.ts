// Selection chains (codegen/fusion/selection-chains.ts, kernels/select.ts chainKernel): a merge's
// three sorts — each source's best two destinations, the sources by their best score, the kept
// sources back into their original order — and the destinations' new sizes run as one kernel,
// one workgroup per image. Checked over generated sorts against the float64 reference (indices
// exactly, ties included), over generated ToMe merges (src/fpet/models/merge.ts: merged rows and
// sizes) and over small ViTs merging in consecutive blocks (forward and training step: the chain
// also stores the sizes every later block reads), on CPU- and GPU-class plans with row counts read at run time or constants; and the cases
// that must not chain: a sort across images, a reshape mixing images, a kernel reading an early
// sort before the last one runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { compileGraph, GPU_CLASS_LIMITS, DEFAULT_LIMITS } from '../../codegen/compile.ts';
import { alternatingSplit, mergeTokens } from '../../src/fpet/models/merge.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';
import type { VitConfig } from '../../src/fpet/models/vit.ts';
import { assertClose, checkAgainstReference, runOnGpu as run } from '../support/gpu.ts';
import { fcParams, randomFeeds, rngFrom } from '../support/random.ts';

interface Case {
  readonly images: number;
  /** Sources (set A) and destinations (set B) per image. */
  readonly sources: number;
  readonly destinations: number;
  /** Sources merged, 1..sources (all: no kept sort). */
  readonly merged: number;
}

/** A merge's sorts as src/fpet/models/merge.ts builds them; `between` adds a reader of the first sort over all images before the second. */
function mergeSorts(c: Case, between = false): Graph {
  const b = new GraphBuilder();
  const scores = b.input('scores', [c.images, c.sources, c.destinations]);
  const top2 = scores.topk(Math.min(2, c.destinations), -1);
  b.output('top2', top2);
  // Over all images (not per image): it cannot join the chain, nor may the chain run after it.
  if (between) b.output('early', top2.cast('f32').sum(0));
  const best = top2.narrow(2, 0, 1);
  const order = scores.gather(best, 2).reshape([c.images, c.sources]).topk(c.sources, -1);
  b.output('order', order);
  if (c.merged < c.sources) {
    const rest = order.narrow(1, c.merged, c.sources - c.merged);
    b.output('kept', rest.gather(rest.cast('f32').neg().add(c.sources).topk(c.sources - c.merged, -1), 1));
  }
  return b.build();
}

/** Scores drawn from a few levels (many ties) or many. */
function scoresFor(shape: readonly number[], levels: number, seed: number): number[] {
  const rng = rngFrom(seed);
  return Array.from({ length: numel(shape) }, () => Math.floor(rng() * levels) / levels);
}

const topkKernels = (graph: Graph, cls: 'cpu' | 'gpu') =>
  compileGraph(graph, { limits: cls === 'gpu' ? GPU_CLASS_LIMITS : { ...DEFAULT_LIMITS, adapterClass: 'cpu' } }).kernels.filter((k) => k.kind === 'topk');

test('selection chains (property): a merge\'s sorts are one kernel and equal the reference exactly, CPU and GPU class', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        images: fc.integer({ min: 1, max: 6 }),
        sources: fc.integer({ min: 2, max: 40 }),
        destinations: fc.integer({ min: 1, max: 40 }),
        mergedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        levels: fc.constantFrom(3, 4096),
        cls: fc.constantFrom('cpu' as const, 'gpu' as const),
        specialize: fc.constantFrom('rows' as const, 'all' as const),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async (g) => {
        const c: Case = { ...g, merged: Math.max(1, Math.ceil(g.mergedFraction * g.sources)) };
        const graph = mergeSorts(c);
        const feeds = { scores: scoresFor([c.images, c.sources, c.destinations], g.levels, g.seed) };
        // The GPU class on this machine's adapter (its own subgroup size and limits).
        const limits = { adapterClass: g.cls };
        const { plan, out } = await run(graph, feeds, { limits, specialize: g.specialize });
        const sorts = plan.kernels.filter((k) => k.kind === 'topk');
        assert.equal(sorts.length, 1, `one kernel for the sorts of ${JSON.stringify(c)}: ${sorts.map((k) => k.name).join(', ')}`);
        assert.match(sorts[0]!.config, /chain/);
        const ref = evaluate(graph, feeds).outputs;
        for (const name of graph.outputs.keys()) assert.deepEqual(Array.from(out[name]!), Array.from(ref[name]!.data), `${name} of ${JSON.stringify(c)}`);
      },
    ),
    fcParams(30),
  );
});

test('selection chains: sorts across images, or read before the chain\'s last sort, are not chained', async () => {
  const c: Case = { images: 3, sources: 9, destinations: 8, merged: 4 };
  // A stored reader of the first sort between it and the second: the first keeps its kernel, the
  // second and third still chain.
  const between = mergeSorts(c, true);
  for (const cls of ['cpu', 'gpu'] as const) {
    const sorts = topkKernels(between, cls);
    assert.equal(sorts.length, 2, `${cls}: ${sorts.map((k) => k.config).join(', ')}`);
    assert.deepEqual(sorts.map((k) => k.config.includes('chain')), [false, true]);
  }
  const feeds = { scores: scoresFor([c.images, c.sources, c.destinations], 3, 7) };
  const { out } = await run(between, feeds);
  const ref = evaluate(between, feeds).outputs;
  for (const name of between.outputs.keys()) assert.deepEqual(Array.from(out[name]!), Array.from(ref[name]!.data), name);

  // The second sort orders all images' rows together (over axis 0, or after a reshape that mixes them).
  const across = (second: (best: Tensor) => Tensor) => {
    const b = new GraphBuilder();
    const top2 = b.input('scores', [4, 6, 5]).topk(2, -1);
    b.output('top2', top2);
    b.output('second', second(top2.cast('f32')));
    return b.build();
  };
  for (const graph of [across((t) => t.narrow(2, 0, 1).topk(2, 0)), across((t) => t.reshape([6, 4, 2]).narrow(2, 0, 1).topk(4, 1))]) {
    for (const cls of ['cpu', 'gpu'] as const) assert.equal(topkKernels(graph, cls).length, 2, cls);
  }
  // One row per image (a plain top-k over rows, then a gather): many rows per workgroup, no chain.
  const b = new GraphBuilder();
  const x = b.input('x', [40, 10]);
  const idx = x.topk(3, -1);
  b.output('values', x.gather(idx, 1));
  for (const cls of ['cpu', 'gpu'] as const) assert.deepEqual(topkKernels(b.build(), cls).map((k) => k.config.includes('chain')), [false], cls);
});

test('selection chains (property): ToMe merges — sorts and new sizes in one kernel — match float64, with sizes or without', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        images: fc.integer({ min: 1, max: 4 }),
        // At least 6: two sources or more, the rows a chain's workgroup shares out.
        tokens: fc.integer({ min: 6, max: 40 }),
        mergedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        sized: fc.boolean(),
        cls: fc.constantFrom('cpu' as const, 'gpu' as const),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async (c) => {
        const split = alternatingSplit(c.tokens);
        const r = Math.max(1, Math.ceil(c.mergedFraction * split.a.length));
        const b = new GraphBuilder();
        const x = b.input('x', [c.images, c.tokens, 8]);
        const size = c.sized ? b.input('size', [c.images, c.tokens]) : undefined;
        const m = mergeTokens(x, size, b.input('metric', [c.images, c.tokens, 4]), { split, r, differentiable: false });
        b.output('merged', m.x);
        b.output('sizes', m.size);
        b.output('partner', m.partner);
        const graph = b.build();
        const feeds = randomFeeds(graph, c.seed);
        // Sizes of merged tokens: positive counts.
        if (c.sized) feeds.size = Array.from(feeds.size as ArrayLike<number>, (v) => 1 + Math.floor(Math.abs(v) * 4));
        const limits = { adapterClass: c.cls };
        const { plan, out } = await run(graph, feeds, { limits });
        const chains = plan.kernels.filter((k) => k.config.includes('chain'));
        assert.equal(chains.length, 1, `one chain: ${plan.kernels.map((k) => `${k.name} (${k.config})`).join(', ')}`);
        // The sorts (top-2; with r < |A| the order and the kept order), then the new sizes s_B + Σ.
        assert.match(chains[0]!.config, r < split.a.length ? /chain k2,k\d+,k\d+,add/ : /chain k\d,add/, `r ${r} of ${split.a.length}`);
        const ref = evaluate(graph, feeds).outputs;
        assert.deepEqual(Array.from(out.partner!), Array.from(ref.partner!.data), 'partners');
        assertClose('merged', out.merged!, ref.merged!.data);
        assertClose('sizes', out.sizes!, ref.sizes!.data);
      },
    ),
    fcParams(25),
  );
});

test('selection chains (property): ViTs with ToMe merges in consecutive blocks, forward and training step, CPU and GPU class, match float64 with one chain per merge', { timeout: 900_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        r: fc.integer({ min: 1, max: 4 }),
        batch: fc.integer({ min: 1, max: 3 }),
        merges: fc.integer({ min: 1, max: 3 }),
        training: fc.boolean(),
        cls: fc.constantFrom('cpu' as const, 'gpu' as const),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async (c) => {
        const vit: VitConfig = { imageSize: 8, patchSize: 2, inChannels: 1, dim: 24, depth: 3, heads: 6, mlpRatio: 2, numClasses: 5, representationSize: 0 };
        const merge = { ...DEFAULT_MERGE, kind: 'tome' as const, blocks: Array.from({ length: c.merges }, (_, i) => i), r: c.r };
        const spec: ModelSpec = { vit, batch: c.batch, pet: DEFAULT_PET.adaptformer, merge, ...(c.training ? { training: { dropout: 0, dropPath: 0 } } : {}) };
        const model = buildModel(spec).graph;
        const graph = c.training ? gradients(model, { loss: 'loss' }) : model;
        const plan = await checkAgainstReference(graph, randomFeeds(graph, c.seed), { limits: { adapterClass: c.cls } });
        assert.equal(plan.kernels.filter((k) => k.config.includes('chain')).length, c.merges, plan.kernels.map((k) => k.config).join(' | '));
      },
    ),
    fcParams(8),
  );
});
