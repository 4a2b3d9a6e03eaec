// Dispatch batching (codegen/batch.ts, codegen/steps.ts): the scheduler never reorders across a
// dependency (read after write, write after read, write after write: parameters are updated in
// place) and keeps every batch within a dispatch's limits; a part's bounds guards become ifs (a
// `return` would make the later parts non-uniform); batched plans run on the GPU and agree with
// the unbatched plan and the float64 reference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { crossEntropy } from '../../src/core/ir/nn.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { buildVit, VIT_PRESETS, type VitConfig } from '../../src/fpet/models/vit.ts';
import { MAX_BATCH_PARTS, reshapedMembers, scheduleBatches, withoutGuardReturns, type BatchCandidate } from '../../codegen/batch.ts';
import { ge, local, u32 } from '../../kernels/alu.ts';
import { Local, U32, type Stmt } from '../../kernels/ir.ts';
import { treeText } from '../../codegen/dump.ts';
import { assertClose, runOnGpu } from '../support/gpu.ts';
import { fcParams, randomFeeds, rngFrom, uniform } from '../support/random.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';

const LIMITS = { maxStorageBuffersPerShaderStage: 6, maxComputeWorkgroupStorageSize: 1024, maxComputeWorkgroupsPerDimension: 65535 };

/** Kernels over a few tensors: each reads some and writes one or two (sometimes one it reads: in place). */
const kernelsArb = fc.array(
  fc.record({
    reads: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 4 }),
    writes: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 2 }),
    size: fc.constantFrom<readonly [number, number, number]>([64, 1, 1], [256, 1, 1], [16, 16, 1], [8, 8, 1]),
    bytes: fc.constantFrom(0, 256, 768),
  }),
  { minLength: 1, maxLength: 24 },
).map((ks) => ks.map((k): BatchCandidate => ({
  workgroupSize: k.size,
  writes: new Set(k.writes),
  reads: new Set(k.reads.filter((t) => !k.writes.includes(t))),
  workgroupBytes: k.bytes,
})));

const invocationsOf = (k: BatchCandidate) => k.workgroupSize[0]! * k.workgroupSize[1]! * k.workgroupSize[2]!;

/** Every kernel once, dependencies in order, each batch within limits and of one size (`sizeOf`: as placed). */
function assertValidSchedule(kernels: readonly BatchCandidate[], batches: readonly (readonly number[])[], sizeOf: (i: number) => number): void {
  const batchOf = new Map<number, number>();
  batches.forEach((b, i) => b.forEach((k) => batchOf.set(k, i)));
  assert.deepEqual([...batchOf.keys()].sort((a, b) => a - b), kernels.map((_, i) => i));
  const touches = (k: BatchCandidate, t: number) => k.reads.has(t) || k.writes.has(t);
  for (let j = 0; j < kernels.length; j++) {
    for (let i = 0; i < j; i++) {
      const [a, b] = [kernels[i]!, kernels[j]!];
      const hazard = [...a.writes].some((t) => touches(b, t)) || [...b.writes].some((t) => a.reads.has(t));
      if (hazard) assert.ok(batchOf.get(i)! < batchOf.get(j)!, `kernel ${j} depends on kernel ${i} but runs in batch ${batchOf.get(j)} ≤ ${batchOf.get(i)}`);
    }
  }
  for (const b of batches) {
    const parts = b.map((i) => kernels[i]!);
    assert.ok(parts.length <= MAX_BATCH_PARTS);
    assert.equal(new Set(b.map(sizeOf)).size, 1, 'as many invocations per workgroup');
    assert.ok(new Set(parts.flatMap((p) => [...p.reads, ...p.writes])).size <= LIMITS.maxStorageBuffersPerShaderStage || parts.length === 1);
    assert.ok(parts.reduce((s, p) => s + p.workgroupBytes, 0) <= LIMITS.maxComputeWorkgroupStorageSize);
  }
}

test('scheduleBatches (property): every kernel once, dependencies kept in order, batches within limits', () => {
  fc.assert(
    fc.property(kernelsArb, (kernels) => assertValidSchedule(kernels, scheduleBatches(kernels, LIMITS), (i) => invocationsOf(kernels[i]!))),
    fcParams(300),
  );
});

test('scheduleBatches (property): a kernel offered in another workgroup size joins a batch of that size, and only so', () => {
  const withForms = kernelsArb.chain((ks) => fc.tuple(fc.constant(ks), fc.array(fc.subarray([8, 32, 64]), { minLength: ks.length, maxLength: ks.length })));
  fc.assert(
    fc.property(withForms, ([kernels, forms]) => {
      const reshape = (i: number, size: number): BatchCandidate | undefined =>
        forms[i]!.includes(size) ? { ...kernels[i]!, workgroupSize: [size, 1, 1] } : undefined;
      const batches = scheduleBatches(kernels, LIMITS, reshape);
      const reshaped = reshapedMembers(kernels, batches);
      for (const [i, size] of reshaped) assert.ok(forms[i]!.includes(size), `kernel ${i} placed at ${size} invocations, offered ${forms[i]}`);
      assertValidSchedule(kernels, batches, (i) => reshaped.get(i) ?? invocationsOf(kernels[i]!));
    }),
    fcParams(300),
  );
  // An attention-like kernel of 8 invocations, then an independent matmul of 256 that has an 8-wide form.
  const k = (size: number, reads: number[], writes: number[]): BatchCandidate => ({ workgroupSize: [size, 1, 1], reads: new Set(reads), writes: new Set(writes), workgroupBytes: 0 });
  const pair = [k(8, [0, 1], [2]), k(256, [1], [3])];
  assert.deepEqual(scheduleBatches(pair, LIMITS), [[0], [1]]);
  assert.deepEqual(scheduleBatches(pair, LIMITS, (i, size) => (i === 1 && size === 8 ? { ...pair[1]!, workgroupSize: [8, 1, 1] } : undefined)), [[0, 1]]);
});

test('withoutGuardReturns: a bounds guard becomes an if around what follows; any other return refuses', () => {
  const x = new Local('row', U32, 'let');
  const store: Stmt = { k: 'barrier' };
  const guard: Stmt = { k: 'if', cond: ge(local(x), u32(16)), body: [{ k: 'return' }] };
  const let_: Stmt = { k: 'let', x, value: u32(3) };
  const out = withoutGuardReturns([let_, guard, store, store])!;
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], let_);
  const wrapped = out[1]!;
  assert.ok(wrapped.k === 'if' && wrapped.body.length === 2);
  assert.match(treeText({ body: out, storage: [], moduleArrays: [], workgroupSize: [1, 1, 1], enables: [] }), /if \(lt:bool row#0 16:u32\)/);
  assert.equal(withoutGuardReturns([{ k: 'if', cond: ge(local(x), u32(1)), body: [store, { k: 'return' }] }]), undefined);
  assert.equal(withoutGuardReturns([{ k: 'loop', x, from: u32(0), to: u32(4), step: u32(1), body: [guard] }]), undefined);
  assert.deepEqual(withoutGuardReturns([store, guard]), [store]);
});

/** vit-micro forward and backward (every parameter trainable) at batch 2. */
function vitTrainGraph(): Graph {
  const config: VitConfig = VIT_PRESETS['vit-micro'];
  const b = new GraphBuilder();
  const images = b.input('images', [2, config.inChannels, config.imageSize, config.imageSize]);
  const { logits } = buildVit(b, images, config, (name, shape) => b.param(name, shape, { trainable: true }));
  b.output('logits', logits);
  b.output('loss', crossEntropy(logits, b.input('onehot', [2, config.numClasses])));
  return gradients(b.build(), { loss: 'loss' });
}

test('batched plans: fewer dispatches than kernels, and the GPU agrees with the unbatched plan and the float64 reference', { timeout: 600_000 }, async () => {
  const graph = vitTrainGraph();
  const rng = rngFrom(7);
  const feeds: Record<string, number[]> = {};
  for (const n of [...graph.inputs, ...graph.params]) {
    const name = n.attrs.name;
    feeds[name] = name === 'onehot' ? Array.from({ length: numel(n.type.shape) }, (_, i) => (i % 10 === 3 ? 1 : 0)) : uniform(rng, numel(n.type.shape), -0.3, 0.3);
  }
  const ref = evaluate(graph, feeds).outputs;
  const batched = await runOnGpu(graph, feeds);
  const single = await runOnGpu(graph, feeds, { batch: false });
  assert.equal(single.plan.steps.length, single.plan.kernels.length);
  assert.ok(batched.plan.steps.length < batched.plan.kernels.length, `${batched.plan.steps.length} dispatches for ${batched.plan.kernels.length} kernels`);
  assert.ok(batched.plan.steps.some((s) => s.parts.length > 1 && s.kernel.kind === 'batch'));
  assert.deepEqual(batched.plan.steps.flatMap((s) => s.parts), batched.plan.kernels.map((_, i) => i));
  console.log(`vit-micro train step: ${batched.plan.kernels.length} kernels in ${batched.plan.steps.length} dispatches`);
  for (const name of graph.outputs.keys()) {
    assertClose(`${name} batched`, batched.out[name]!, ref[name]!.data);
    assertClose(`${name} batched vs unbatched`, batched.out[name]!, single.out[name]!);
  }
});

/** vit-micro + AdaptFormer + FPET (merge in block 1) training step at batch 2: the merge's small kernels batch with others. */
function fpetTrainGraph(): Graph {
  const spec: ModelSpec = { vit: VIT_PRESETS['vit-micro'], batch: 2, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [1] }, training: { dropout: 0, dropPath: 0 } };
  return gradients(buildModel(spec).graph, { loss: 'loss' });
}

test('GPU-class plans batch kernels whose workgroups have other shapes but as many invocations, and agree with float64', { timeout: 600_000 }, async () => {
  const graph = fpetTrainGraph();
  const feeds = randomFeeds(graph, 8);
  const { plan, out } = await runOnGpu(graph, feeds, { limits: { adapterClass: 'gpu' } });
  const shapes = (s: (typeof plan.steps)[number]) => new Set(s.parts.map((i) => plan.kernels[i]!.workgroupSize.join('x')));
  const mixed = plan.steps.filter((s) => s.parts.length > 1 && shapes(s).size > 1);
  assert.ok(mixed.length > 0, 'some dispatch batches kernels of different workgroup shapes');
  console.log(`vit-micro + FPET train step, GPU-class plan: ${plan.kernels.length} kernels in ${plan.steps.length} dispatches, ${mixed.length} mixing shapes (${[...shapes(mixed[0]!)].join(' + ')})`);
  const ref = evaluate(graph, feeds).outputs;
  for (const name of graph.outputs.keys()) assertClose(name, out[name]!, ref[name]!.data);
});
