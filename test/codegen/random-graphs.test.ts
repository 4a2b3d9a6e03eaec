// Random graphs (random op chains over random shapes, sizes deliberately not multiples of tile
// or workgroup sizes) compiled to WGSL and run on the WebGPU adapter, forward and backward,
// fused and unfused, against the float64 reference interpreter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { fcParams } from '../support/random.ts';
import { buildRandomGraph, programArb } from '../support/random-graphs.ts';
import { assertClose, runOnGpu } from '../support/gpu.ts';

let cases = 0, kernelsRun = 0;

test('random graphs: GPU forward and backward match the float64 reference, fused and unfused', async () => {
  await fc.assert(
    fc.asyncProperty(programArb, async (p) => {
      const { graph, feeds } = buildRandomGraph(p);
      const withGrads = gradients(graph, { loss: 'loss' });
      const ref = evaluate(withGrads, feeds).outputs;
      const results: Record<string, ArrayLike<number>>[] = [];
      for (const fuse of [true, false]) {
        const { plan, out } = await runOnGpu(withGrads, feeds, { fuse });
        kernelsRun += plan.kernels.length;
        for (const name of withGrads.outputs.keys()) assertClose(`${name} (${fuse ? 'fused' : 'unfused'}) ${JSON.stringify(p)}`, out[name]!, ref[name]!.data);
        results.push(out);
      }
      // Fused and unfused agree with each other (as tightly as each agrees with the reference).
      for (const name of withGrads.outputs.keys()) assertClose(`${name} fused vs unfused`, results[0]![name]!, results[1]![name]!);
      cases++;
    }),
    fcParams(25),
  );
  console.log(`random graphs: ${cases} programs, ${kernelsRun} kernels run`);
  assert.ok(cases > 0);
});
