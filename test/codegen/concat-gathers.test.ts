// Concatenations of row gathers (codegen/lower.ts lowerConcat): parts that gather rows of one
// tensor — ToMe's merged sequence cls | kept tokens | merged tokens, the first two rows of the
// pre-merge x — read that tensor once per element, at the row of the part that owns the position.
// And on GPUs a LayerNorm over such rows is computed in the matmul reading it (fuse-norm-prologues
// counts the gathered tensor once, its indices not at all: codegen/fusion/prologues.ts kVaryingReads).
// Checked over generated concatenations (constant and run-time indices, gathers of gathers, parts
// from other tensors, any order), as a map and as a normalised matmul operand, with gradients,
// on CPU- and GPU-class plans, against float64.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { layerNorm } from '../../src/core/ir/nn.ts';
import { checkAgainstReference } from '../support/gpu.ts';
import { fcParams, randInt, randomFeeds, rngFrom } from '../support/random.ts';

/** One part of the concatenation: rows of x by constant or run-time indices (possibly gathered twice), or rows of another tensor. */
type Part = { readonly kind: 'const' | 'input' | 'twice'; readonly rows: number } | { readonly kind: 'other'; readonly rows: number };

interface Case {
  readonly images: number;
  readonly tokens: number;
  readonly dim: number;
  readonly parts: readonly Part[];
  readonly use: 'map' | 'norm-matmul';
  readonly training: boolean;
  readonly adapterClass: 'cpu' | 'gpu';
  readonly seed: number;
}

const partArb = fc.record({ kind: fc.constantFrom('const', 'input', 'twice', 'other'), rows: fc.integer({ min: 1, max: 5 }) }) as fc.Arbitrary<Part>;

const caseArb: fc.Arbitrary<Case> = fc.record({
  images: fc.integer({ min: 1, max: 3 }),
  tokens: fc.integer({ min: 1, max: 9 }),
  dim: fc.constantFrom(4, 8, 12, 64),
  parts: fc.array(partArb, { minLength: 2, maxLength: 4 }),
  use: fc.constantFrom('map', 'norm-matmul'),
  training: fc.boolean(),
  adapterClass: fc.constantFrom('cpu', 'gpu'),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

/** The case's graph and the run-time indices it reads (valid rows of x). */
function build(c: Case): { graph: Graph; feeds: Record<string, number[]> } {
  const b = new GraphBuilder();
  const rng = rngFrom(c.seed);
  // A parameter: a training step's gradient reaches it through every gather (scatter-adds).
  const x = b.param('x', [c.images, c.tokens, c.dim], { trainable: c.training });
  const indexFeeds: Record<string, number[]> = {};
  const rowsOf = (n: number, of: number) => Array.from({ length: n }, () => randInt(rng, of));
  const parts: Tensor[] = c.parts.map((p, i) => {
    if (p.kind === 'other') return b.input(`other${i}`, [c.images, p.rows, c.dim]);
    if (p.kind === 'const') return x.gather(b.constant(rowsOf(p.rows, c.tokens), [1, p.rows], 'i32'), 1);
    const name = `idx${i}`;
    indexFeeds[name] = Array.from({ length: c.images }, () => rowsOf(p.rows, p.kind === 'twice' ? 3 : c.tokens)).flat();
    const idx = b.input(name, [c.images, p.rows], 'i32');
    // Twice: rows of three rows of x picked by a constant (a merge's set A, then its kept tokens).
    return p.kind === 'twice' ? x.gather(b.constant(rowsOf(3, c.tokens), [1, 3], 'i32'), 1).gather(idx, 1) : x.gather(idx, 1);
  });
  const rows = b.concat(parts, 1);
  let out: Tensor;
  if (c.use === 'map') out = rows.tanh().mul(2);
  else {
    const gamma = b.param('gamma', [c.dim]), beta = b.param('beta', [c.dim]), w = b.param('w', [c.dim, 8], { trainable: c.training });
    out = layerNorm(rows, gamma, beta).matmul(w);
  }
  b.output('out', out);
  if (c.training) b.output('loss', out.square().sum(-1).sum(-1).sum(0));
  const forward = b.build();
  const graph = c.training ? gradients(forward, { loss: 'loss' }) : forward;
  const feeds = { ...randomFeeds(graph, c.seed), ...indexFeeds };
  return { graph, feeds };
}

test('concatenated row gathers, as a map and as a normalised matmul operand, match float64 (generated)', { timeout: 900_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const { graph, feeds } = build(c);
      await checkAgainstReference(graph, feeds, { limits: { adapterClass: c.adapterClass } });
    }),
    fcParams(30),
  );
});

test('a norm over cls | kept | merged rows: in the matmul reading it on GPUs, which reads x once per element; its own row kernel on CPU adapters', async () => {
  const base: Case = { images: 2, tokens: 9, dim: 64, parts: [], use: 'norm-matmul', training: false, adapterClass: 'gpu', seed: 7 };
  const three: Part[] = [{ kind: 'const', rows: 1 }, { kind: 'twice', rows: 2 }, { kind: 'input', rows: 1 }, { kind: 'other', rows: 4 }];
  const loadsOfX = async (parts: readonly Part[]) => {
    const { graph, feeds } = build({ ...base, parts });
    const plan = await checkAgainstReference(graph, feeds, { limits: { adapterClass: 'gpu' } });
    assert.deepEqual(plan.kernels.map((k) => k.kind), ['matmul'], plan.kernels.map((k) => k.name).join(', '));
    const k = plan.kernels[0]!;
    const x = k.bindings.filter((bd) => (plan.graph.node(bd.tensor).attrs as { name?: string }).name === 'x').map((bd) => bd.name);
    return x.reduce((n, name) => n + (k.code.match(new RegExp(`\\b${name}\\[`, 'g'))?.length ?? 0), 0);
  };
  const one = await loadsOfX([{ kind: 'input', rows: 3 }, { kind: 'other', rows: 4 }]);
  assert.ok(one > 0);
  assert.equal(await loadsOfX(three), one, 'rows of x gathered by three parts are loaded where one part loads them');
  // CPU adapters: selecting rows by run-time indices in every column tile compiles slowly (lavapipe).
  const { graph, feeds } = build({ ...base, parts: three, adapterClass: 'cpu' });
  const plan = await checkAgainstReference(graph, feeds, { limits: { adapterClass: 'cpu' } });
  assert.ok(plan.kernels.some((k) => k.kind === 'row'), plan.kernels.map((k) => k.name).join(', '));
});
