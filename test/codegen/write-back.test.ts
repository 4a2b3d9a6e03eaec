// Write-back in place (fusion pass write-back-in-place): an update the caller writes back over a
// parameter after every step (AdamW's new parameter and moments) is written there by its kernel,
// with no copies. When it may (every other reader of the parameter runs before, the kernel reads
// it only at the element it overwrites) and when not; on the GPU, generated training steps
// (AdaptFormer, FPET, ToMe) against the float64 reference and against the copying plan.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { linear } from '../../src/core/ir/nn.ts';
import { FUSION_PASSES, planFusion } from '../../codegen/fusion/index.ts';
import { compileGraph } from '../../codegen/compile.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET } from '../../src/fpet/models/model.ts';
import type { VitConfig } from '../../src/fpet/models/vit.ts';
import { ADAMW_DEFAULTS, adamHyper, withAdamW } from '../../src/fpet/train/optimizer.ts';
import { assertClose, gpu } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

/** Names of the parameters written over in the plan of `graph` with these write-back pairs. */
function writtenOver(graph: Graph, writeBack: readonly (readonly [string, string])[]): string[] {
  const plan = planFusion(graph, { maxBindings: 16, writeBack }, FUSION_PASSES);
  const names = new Map(graph.params.map((n) => [n.id, n.attrs.name] as const));
  return [...plan.writtenOver.values()].map((p) => names.get(p)!).sort();
}

/** A linear layer's loss with AdamW on its weight: the update, m and v written back. */
function adamGraph(extra?: (b: GraphBuilder) => void) {
  const b = new GraphBuilder();
  const w = b.param('w', [4, 8], { trainable: true });
  b.output('loss', linear(b.input('x', [3, 8]), w).square().sum(1).sum(0));
  const { graph, writeBack } = withAdamW(gradients(b.build(), { loss: 'loss' }), ['w']);
  if (!extra) return { graph, writeBack };
  const more = GraphBuilder.from(graph);
  extra(more.b);
  return { graph: more.b.build(), writeBack };
}

test('write-back-in-place: AdamW\'s parameter and moments are written over, nothing else', () => {
  const { graph, writeBack } = adamGraph();
  assert.deepEqual(writtenOver(graph, writeBack), ['adam.m:w', 'adam.v:w', 'w']);
  assert.deepEqual(writtenOver(graph, []), [], 'only what the caller writes back');
  // A kernel after the update reading the old weight: the weight keeps its copy, the moments not.
  const late = adamGraph((b) => b.output('w2', b.leaf('w').mul(2)));
  assert.deepEqual(writtenOver(late.graph, late.writeBack), ['adam.m:w', 'adam.v:w']);
});

test('write-back-in-place: an update reading its parameter at other elements (a transpose) keeps the copy', () => {
  const b = new GraphBuilder();
  const p = b.param('p', [4, 4], { trainable: true });
  b.output('next', p.transpose().add(b.input('g', [4, 4])));
  b.output('same', p.mul(0.5).add(b.input('h', [4, 4])));
  const graph = b.build();
  assert.deepEqual(writtenOver(graph, [['next', 'p']]), []);
  assert.deepEqual(writtenOver(graph, [['same', 'p']]), ['p']);
});

const VIT: VitConfig = { imageSize: 8, patchSize: 2, inChannels: 1, dim: 16, depth: 3, heads: 2, mlpRatio: 2, numClasses: 5, representationSize: 0 };

test('write-back in place: only dispatches writing over a parameter bind the parameter arena read_write', () => {
  // WebGPU forbids a writable and a read-only binding of one buffer in a dispatch; kernels that
  // only read parameters keep read-only bindings (and so the modules of the inference plan).
  const model = buildModel({ vit: VIT, batch: 2, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, kind: 'fpet', blocks: [1] }, training: { dropout: 0, dropPath: 0 } });
  const { graph, writeBack } = withAdamW(gradients(model.graph, { loss: 'loss' }), model.trainable, ADAMW_DEFAULTS);
  for (const adapterClass of ['cpu', 'gpu'] as const) {
    const plan = compileGraph(graph, { limits: { adapterClass, subgroupSize: adapterClass === 'cpu' ? 8 : 32 }, writeBack });
    const inParams = (id: number) => plan.tensors.get(id)?.arena === 'params';
    let writing = 0, reading = 0;
    for (const step of plan.steps) {
      const bound = step.kernel.bindings.filter((b) => inParams(b.tensor));
      const writes = step.kernel.outputs.some(inParams);
      writing += writes ? 1 : 0;
      reading += !writes && bound.length > 0 ? 1 : 0;
      for (const b of bound) assert.equal(b.access, writes ? 'read_write' : 'read', `${adapterClass}: ${step.kernel.name} binds %${b.tensor} ${b.access}`);
    }
    assert.ok(writing > 0 && reading > 0, `${adapterClass}: ${writing} dispatches write parameters, ${reading} only read them`);
  }
});

test('write-back in place on the GPU: training steps match float64 and the plan with copies (generated)', { timeout: 900_000 }, async () => {
  const ctx = await gpu();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('none', 'fpet', 'tome'), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1000 }), async (kind, batch, seed) => {
      const merge = kind === 'none' ? {} : { merge: { ...DEFAULT_MERGE, kind, blocks: kind === 'fpet' ? [1] : [0, 1], r: 3 } };
      const model = buildModel({ vit: VIT, batch, pet: DEFAULT_PET.adaptformer, ...merge, training: { dropout: 0, dropPath: 0 } });
      const { graph, writeBack } = withAdamW(gradients(model.graph, { loss: 'loss' }), model.trainable, ADAMW_DEFAULTS);
      const feeds = randomFeeds(graph, seed, 1, 0.5);
      feeds.hyper = [...adamHyper(1e-2, 1, ADAMW_DEFAULTS)];
      for (const [, target] of writeBack) if (target.startsWith('adam.v:')) feeds[target] = feeds[target]!.map(Math.abs);
      const limits = deviceLimits(ctx);
      const inPlace = await Program.create(ctx, compileGraph(graph, { limits, writeBack }), { writeBack });
      const copies = await Program.create(ctx, compileGraph(graph, { limits }), { writeBack });
      try {
        const over = [...inPlace.plan.tensors.values()].filter((t) => t.role === 'output' && t.storage !== t.node).length;
        assert.ok(over >= writeBack.length, `every update written over its parameter (${over} of ${writeBack.length})`);
        // One step: the parameters now hold the reference's updates.
        const ref = evaluate(graph, feeds).outputs;
        for (const exe of [inPlace, copies]) {
          exe.write(feeds);
          exe.run();
        }
        const names = writeBack.map(([, t]) => t);
        const after = await inPlace.read(names);
        for (const [out, target] of writeBack) assertClose(`${kind} b${batch} ${target}`, after[target]!, ref[out]!.data);
        // Two more steps: the same values as the plan that copies.
        for (const exe of [inPlace, copies]) for (let s = 0; s < 2; s++) exe.run();
        const [a, c] = [await inPlace.read(names), await copies.read(names)];
        for (const n of names) assertClose(`${kind} b${batch} ${n} after 3 steps`, a[n]!, c[n]!, 1e-5);
        assert.deepEqual(ctx.takeErrors().map((e) => e.message), []);
      } finally {
        inPlace.destroy();
        copies.destroy();
      }
    }),
    fcParams(6),
  );
});
