// Top-k on the GPU against the float64 reference (property): both designs (k passes per row for
// small k; ranks counted per entry for k of at least half the row, a merge's full order of its
// tokens), rows along the last axis or another, ties (values from a few levels: the lower index
// first), rows past one workgroup. Indices must match exactly; values are exact in f32.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { runOnGpu } from '../support/gpu.ts';
import { fcParams, rngFrom } from '../support/random.ts';

test('topk (property): indices match the reference exactly, ties to the lower index, in both designs', { timeout: 600_000 }, async () => {
  const designs = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        outer: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 2 }),
        n: fc.integer({ min: 1, max: 70 }),
        first: fc.boolean(),
        kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        levels: fc.constantFrom(2, 5, 4096),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      }),
      async (c) => {
        const shape = c.first ? [c.n, ...c.outer] : [...c.outer, c.n];
        const axis = c.first ? 0 : shape.length - 1;
        const k = Math.max(1, Math.ceil(c.kFraction * c.n));
        const rng = rngFrom(c.seed);
        const x = Array.from({ length: numel(shape) }, () => Math.floor(rng() * c.levels) / 8);
        const b = new GraphBuilder();
        const idx = b.input('x', shape).topk(k, axis);
        b.output('idx', idx);
        const graph = b.build();
        const { plan, out } = await runOnGpu(graph, { x });
        const kernel = plan.kernels.find((q) => q.kind === 'topk')!;
        assert.equal(kernel.config.endsWith('ranks'), 2 * k >= c.n, `${kernel.config} for k=${k} of ${c.n}`);
        designs.add(kernel.config.endsWith('ranks') ? 'ranks' : 'passes');
        assert.deepEqual(Array.from(out.idx!), Array.from(evaluate(graph, { x }).outputs.idx!.data), `topk k=${k} axis ${axis} of ${JSON.stringify(shape)}`);
      },
    ),
    fcParams(40),
  );
  assert.deepEqual([...designs].sort(), ['passes', 'ranks']);
});
