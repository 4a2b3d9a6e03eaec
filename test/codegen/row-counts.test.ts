// Row counts read at run time (CompileOptions.specialize 'rows'): the same transformer-style block
// (LayerNorm, linear + GELU, linear + residual) applied to two inputs that differ only in their
// token count, forward and backward (weight gradients contract over the rows, bias gradients sum
// over them). Every output must match the float64 reference for generated token counts, widths
// and batches (tails of every tile included), with never more modules than a plan specialised to
// every size; at the main job's sizes the two copies share modules — one module dispatched at
// two row counts. (Tiny row counts may pick another kernel design per size: nothing to share.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { gelu, layerNorm, linear } from '../../src/core/ir/nn.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { deviceLimits } from '../../src/core/runtime/program.ts';
import { assertClose, gpu, runOnGpu } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

interface Case {
  readonly batch: number;
  readonly tokens: readonly [number, number];
  readonly width: number;
  readonly hidden: number;
}

/** One block over x: x + fc2(gelu(fc1(LN(x)))), parameters shared by every call. */
function blockOf(b: GraphBuilder, c: Case): (x: Tensor) => Tensor {
  const p = (name: string, shape: number[]) => b.param(name, shape, { trainable: true });
  const [g, beta] = [p('ln.weight', [c.width]), p('ln.bias', [c.width])];
  const [w1, b1] = [p('fc1.weight', [c.hidden, c.width]), p('fc1.bias', [c.hidden])];
  const [w2, b2] = [p('fc2.weight', [c.width, c.hidden]), p('fc2.bias', [c.width])];
  return (x) => x.add(linear(gelu(linear(layerNorm(x, g, beta), w1, b1)), w2, b2));
}

/** The block on two inputs that differ in token count only, with a loss over both, and its gradients. */
function twoRowCounts(c: Case): Graph {
  const b = new GraphBuilder();
  const block = blockOf(b, c);
  let loss: Tensor | undefined;
  c.tokens.forEach((n, i) => {
    const y = block(b.input(`x${i}`, [c.batch, n, c.width]));
    b.output(`y${i}`, y);
    const l = y.square().sumAll().mul(1 / numel(y.shape));
    loss = loss ? loss.add(l) : l;
  });
  b.output('loss', loss!);
  return gradients(b.build(), { loss: 'loss' });
}

const caseArb = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  tokens: fc.tuple(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 40 })).filter(([a, b]) => a !== b),
  width: fc.constantFrom(8, 12, 16),
  hidden: fc.constantFrom(16, 24),
});

const modules = (plan: CompiledPlan) => new Set(plan.steps.map((s) => s.kernel.code)).size;

/** Modules dispatched for outputs of more than one shape. */
function sharedAcrossSizes(plan: CompiledPlan): number {
  const shapes = new Map<string, Set<string>>();
  for (const s of plan.steps) {
    const outs = s.parts.map((i) => plan.graph.node(plan.kernels[i]!.root).type.shape.join('x')).join(' ');
    shapes.set(s.kernel.code, (shapes.get(s.kernel.code) ?? new Set()).add(outs));
  }
  return [...shapes.values()].filter((g) => g.size > 1).length;
}

/** Runs `c` on the GPU with the adapter class's templates and checks every output against the float64 reference; returns the plan. */
async function checkCase(c: Case, adapterClass: 'cpu' | 'gpu', seed: number): Promise<CompiledPlan> {
  const graph = twoRowCounts(c);
  const feeds = randomFeeds(graph, seed);
  const ref = evaluate(graph, feeds).outputs;
  // The GPU adapter class renders other templates (tiled matmuls, a workgroup per row).
  const { plan, out } = await runOnGpu(graph, feeds, { limits: { adapterClass } });
  for (const name of graph.outputs.keys()) assertClose(`${name} ${JSON.stringify(c)} ${adapterClass}`, out[name]!, ref[name]!.data, 2e-4);
  return plan;
}

test('row counts at run time: blocks at two token counts match the float64 reference and never need more modules (generated sizes)', { timeout: 900_000 }, async () => {
  const limits = deviceLimits(await gpu());
  let runs = 0, shared = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, fc.constantFrom('cpu' as const, 'gpu' as const), fc.integer({ min: 1, max: 1e6 }), async (c, adapterClass, seed) => {
      const plan = await checkCase(c, adapterClass, seed);
      // Tiny row counts may pick other kernel designs per size (then nothing is shared), never more modules.
      const specialised = compileGraph(twoRowCounts(c), { limits: { ...limits, adapterClass }, specialize: 'all' });
      assert.ok(modules(plan) <= modules(specialised), `${modules(plan)} modules at run-time row counts, ${modules(specialised)} specialised (${JSON.stringify(c)} ${adapterClass})`);
      runs++;
      shared += sharedAcrossSizes(plan);
    }),
    fcParams(12),
  );
  console.log(`row counts at run time: ${runs} cases, ${shared} modules dispatched at two sizes`);
});

test('row counts at run time: at the main job\'s sizes (50 and 25 tokens) the blocks share their LayerNorm, MLP and elementwise modules', { timeout: 300_000 }, async () => {
  const c: Case = { batch: 4, tokens: [50, 25], width: 32, hidden: 64 };
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const plan = await checkCase(c, adapterClass, 5);
    const specialised = compileGraph(twoRowCounts(c), { limits: { ...deviceLimits(await gpu()), adapterClass }, specialize: 'all' });
    assert.ok(modules(plan) < modules(specialised), `${adapterClass}: ${modules(plan)} modules at run-time row counts, ${modules(specialised)} specialised`);
    assert.ok(sharedAcrossSizes(plan) >= 3, `${adapterClass}: ${sharedAcrossSizes(plan)} modules dispatched at both sizes`);
  }
});

test("specialize 'all' keeps every size a constant of the code (no arrayLength)", () => {
  const c: Case = { batch: 2, tokens: [5, 9], width: 8, hidden: 16 };
  const graph = twoRowCounts(c);
  const all = compileGraph(graph, { specialize: 'all' });
  assert.ok(all.steps.every((s) => !s.kernel.code.includes('arrayLength')));
  const rows = compileGraph(graph, { specialize: 'rows' });
  assert.ok(rows.steps.some((s) => s.kernel.code.includes('arrayLength')));
  assert.equal(rows.kernels.length, all.kernels.length, 'the same kernels, only their code differs');
});
