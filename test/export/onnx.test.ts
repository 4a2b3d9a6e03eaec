// ONNX export checked in ONNX Runtime (onnxruntime-node, CPU): logits of exported models within
// 1e-4 (per logit, relative to max(1, |logit|)) of the float64 reference, for random weights and
// the shipped backbone, with and without FPET (ratio 0.5 and below), with ToMe, AdaptFormer and
// LoRA in 32 and 1 bit; against our GPU output for two models; random IR graphs (fast-check);
// every op of the vocabulary; and the errors.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { softmax } from '../../src/core/ir/nn.ts';
import { OP_NAMES } from '../../src/core/ir/ops.ts';
import { buildModel, initialWeights } from '../../src/fpet/models/model.ts';
import { encodeOnnx, exportOnnx, ONNX_OPSET, OnnxExportError, onnxBytes, operatorCounts } from '../../src/core/export/onnx.ts';
import { maxRelDiff, verifyAgainstReference } from '../../src/core/export/verify.ts';
import { runOnGpu } from '../support/gpu.ts';
import { buildRandomGraph, programArb } from '../support/random-graphs.ts';
import { fcParams, rngFrom, uniform } from '../support/random.ts';
import { specOf, testImages, trainedLikeWeights, type Case } from './helpers.ts';

const TOL = 1e-4;
const worst = { rel: 0, abs: 0, where: 'none' };
function record(where: string, d: { rel: number; abs: number }): void {
  if (d.rel > worst.rel) Object.assign(worst, { rel: d.rel, where });
  worst.abs = Math.max(worst.abs, d.abs);
}
after(() => console.log(`# largest ORT-vs-reference difference: ${worst.rel.toExponential(3)} relative (max over logits of |ort − ref| / max(1, |ref|)) in "${worst.where}"; largest absolute ${worst.abs.toExponential(3)}`));

const CASES: readonly Case[] = [
  // random weights, vit-micro (8×8 images, 4×4 patches, 4 blocks)
  { name: 'random vit-micro, linear probe (backbone + head)', preset: 'vit-micro', method: 'linear' },
  { name: 'random vit-micro, AdaptFormer', preset: 'vit-micro', method: 'adaptformer' },
  { name: 'random vit-micro, AdaptFormer + FPET (block 1, ratio 0.5)', preset: 'vit-micro', method: 'adaptformer', merge: { kind: 'fpet', blocks: [1], ratio: 0.5 } },
  { name: 'random vit-micro, Bi-AdaptFormer (s 0.1) + FPET (block 2, ratio 0.25)', preset: 'vit-micro', method: 'adaptformer', bits: 1, scale: 0.1, merge: { kind: 'fpet', blocks: [2], ratio: 0.25 } },
  { name: 'random vit-micro, LoRA + FPET (block 1, ratio 0.5)', preset: 'vit-micro', method: 'lora', merge: { kind: 'fpet', blocks: [1], ratio: 0.5 } },
  { name: 'random vit-micro, Bi-LoRA + ToMe (blocks 0-2, r 2)', preset: 'vit-micro', method: 'lora', bits: 1, merge: { kind: 'tome', blocks: [0, 1, 2], r: 2 } },
  { name: 'random vit-micro, AdaptFormer with biases (as the original AdaptFormer) + FPET (block 2)', preset: 'vit-micro', method: 'adaptformer', bias: true, merge: { kind: 'fpet', blocks: [2], ratio: 0.5 } },
  { name: 'random vit-mnist, AdaptFormer + ToMe (blocks 1-4, r 4)', preset: 'vit-mnist', method: 'adaptformer', merge: { kind: 'tome', blocks: [1, 2, 3, 4], r: 4 } },
  // the shipped backbone (vit-mnist, pre-trained on Fashion-MNIST)
  { name: 'shipped, main job: AdaptFormer + FPET (block 3, ratio 0.5)', preset: 'vit-mnist', method: 'adaptformer', shipped: true, merge: { kind: 'fpet', blocks: [3], ratio: 0.5 } },
  { name: 'shipped, AdaptFormer without merging', preset: 'vit-mnist', method: 'adaptformer', shipped: true },
  { name: 'shipped, Bi-AdaptFormer + FPET (block 3, ratio 0.3)', preset: 'vit-mnist', method: 'adaptformer', bits: 1, shipped: true, merge: { kind: 'fpet', blocks: [3], ratio: 0.3 } },
  { name: 'shipped, LoRA + FPET (blocks 2 and 4, ratio 0.5)', preset: 'vit-mnist', method: 'lora', shipped: true, merge: { kind: 'fpet', blocks: [2, 4], ratio: 0.5 } },
  { name: 'shipped, Bi-LoRA + ToMe (blocks 1-4, r 4)', preset: 'vit-mnist', method: 'lora', bits: 1, shipped: true, merge: { kind: 'tome', blocks: [1, 2, 3, 4], r: 4 } },
  { name: 'shipped, linear probe', preset: 'vit-mnist', method: 'linear', shipped: true },
];

async function exported(c: Case, seed: number) {
  const spec = specOf(c);
  const model = buildModel(spec);
  const weights = await trainedLikeWeights(spec, seed, c.shipped);
  const images = testImages(spec, seed + 100);
  const proto = exportOnnx(model.graph, { weights, metadata: { spec: JSON.stringify(spec) } });
  const bytes = encodeOnnx(proto);
  const feeds = { ...Object.fromEntries(weights), images };
  return { spec, model, weights, images, proto, bytes, feeds };
}

CASES.forEach((c, i) => {
  test(`ONNX Runtime vs float64 reference: ${c.name}`, async (t) => {
    const { spec, model, proto, bytes, feeds } = await exported(c, 10 + i);
    // Structure: opset, inputs, initializers under their own names, one output.
    assert.equal(proto.opsetImport[0]!.version, ONNX_OPSET);
    assert.deepEqual(proto.graph!.input!.map((v) => v.name), ['images']);
    assert.deepEqual(proto.graph!.output!.map((v) => v.name), ['logits']);
    const inits = new Set(proto.graph!.initializer!.map((x) => x.name));
    for (const p of model.graph.params) assert.ok(inits.has(p.attrs.name), `parameter ${p.attrs.name} is an initializer`);
    const ops = operatorCounts(proto);
    assert.equal(ops.get('Softmax'), spec.vit.depth, 'one Softmax per attention');
    if (spec.merge) assert.ok((ops.get('TopK') ?? 0) >= spec.merge.blocks.length, 'the matching uses TopK');
    if (spec.pet.bits === 1) assert.ok(ops.get('Sign'), 'the 1-bit adapters quantise in the graph');
    const r = await verifyAgainstReference(model.graph, bytes, ['logits'], feeds);
    const d = r.outputs.logits!;
    record(c.name, d);
    t.diagnostic(`max |ort − ref| / max(1,|ref|) = ${d.rel.toExponential(2)} (abs ${d.abs.toExponential(2)}), ${bytes.length} bytes, ${proto.graph!.node!.length} nodes`);
    assert.ok(d.rel <= TOL, `logit ${d.at}: ORT ${r.ort.logits![d.at]} vs reference ${r.reference.logits![d.at]} (relative ${d.rel})`);
  });
});

for (const c of [CASES[2]!, CASES[5]!]) { // FPET and ToMe
  test(`ONNX Runtime vs our GPU executor: ${c.name}`, async (t) => {
    const { model, bytes, feeds, spec } = await exported(c, 77);
    const r = await verifyAgainstReference(model.graph, bytes, ['logits'], feeds);
    const onehot = new Float32Array(spec.batch * spec.vit.numClasses);
    const { out } = await runOnGpu(model.graph, { ...feeds, onehot });
    const gpuVsRef = maxRelDiff(out.logits!, r.reference.logits!);
    const ortVsGpu = maxRelDiff(r.ort.logits!, out.logits!);
    record(`${c.name} (GPU run)`, r.outputs.logits!);
    t.diagnostic(`ORT vs ref ${r.outputs.logits!.rel.toExponential(2)}, GPU vs ref ${gpuVsRef.rel.toExponential(2)}, ORT vs GPU ${ortVsGpu.rel.toExponential(2)}`);
    assert.ok(r.outputs.logits!.rel <= TOL);
    assert.ok(gpuVsRef.rel <= TOL, `GPU vs reference ${gpuVsRef.rel}`);
    assert.ok(ortVsGpu.rel <= 2 * TOL, `ORT vs GPU ${ortVsGpu.rel}`);
  });
}

test('softmax idiom: one Softmax node or the expanded ops, same logits', async () => {
  const spec = specOf({ name: '', preset: 'vit-micro', method: 'lora', merge: { kind: 'fpet', blocks: [1] } });
  const model = buildModel(spec);
  const weights = await trainedLikeWeights(spec, 5);
  const feeds = { ...Object.fromEntries(weights), images: testImages(spec, 6) };
  const fused = exportOnnx(model.graph, { weights });
  const plain = exportOnnx(model.graph, { weights, idioms: false });
  assert.equal(operatorCounts(fused).get('Softmax'), spec.vit.depth);
  assert.equal(operatorCounts(plain).get('Softmax'), undefined);
  assert.ok(operatorCounts(plain).get('ReduceMax')! >= spec.vit.depth);
  const a = await verifyAgainstReference(model.graph, encodeOnnx(fused), ['logits'], feeds);
  const b = await verifyAgainstReference(model.graph, encodeOnnx(plain), ['logits'], feeds);
  record('softmax idiom off', b.outputs.logits!);
  assert.ok(a.outputs.logits!.rel <= TOL && b.outputs.logits!.rel <= TOL);
});

test('random IR graphs (fast-check, fixed seed): ONNX Runtime matches evaluate on output y', async () => {
  let runs = 0, largest = 0;
  await fc.assert(
    fc.asyncProperty(programArb, async (p) => {
      const { graph, feeds } = buildRandomGraph(p);
      const params = new Map(graph.params.map((n) => [n.attrs.name, feeds[n.attrs.name]!]));
      const bytes = onnxBytes(graph, { weights: params, outputs: ['y'] });
      const r = await verifyAgainstReference(graph, bytes, ['y'], feeds);
      const d = r.outputs.y!;
      largest = Math.max(largest, d.rel);
      runs++;
      // The graphs' values are O(1) but their intermediate sums are not normalised: the same
      // relative bound as the models, per element against max(1, |ref|).
      assert.ok(d.rel <= TOL, `${JSON.stringify(p)}: element ${d.at}: ORT ${r.ort.y![d.at]} vs ${r.reference.y![d.at]}`);
    }),
    fcParams(40),
  );
  console.log(`# random graphs: ${runs} programs, largest relative difference ${largest.toExponential(3)}`);
});

/**
 * A graph using every op of the vocabulary except rand, in the forms the models do not reach:
 * all compare kinds (f32, i32 and u32), select, casts, fills of rank ≥ 1, topk on a middle axis,
 * gathers whose index broadcasts over some prefix axes, scatterAdd with a shared index row, pad,
 * broadcast, permute of rank 4, straightThrough and stopGradient.
 */
function coverageGraph() {
  const b = new GraphBuilder();
  const rng = rngFrom(3);
  const x = b.input('x', [2, 3, 4]);
  const w = b.param('w', [3, 4]);
  const feeds: Record<string, number[]> = { x: uniform(rng, 24, -2, 2), w: uniform(rng, 12, -1, 1) };
  const outs: Record<string, ReturnType<typeof x.add>> = {};
  const q = x.mul(2).add(w).tanh().mul(3); // f32 in (-3, 3)
  outs.unary = b.concat([q.neg(), q.abs().add(0.1).log(), q.abs().add(0.2).sqrt(), q.abs().add(0.3).rsqrt(), q.abs().add(0.4).recip(), q.exp(), q.erf(), q.relu(), q.sigmoid(), q.sign()], 2);
  outs.binary = b.concat([q.add(w), q.sub(w), q.mul(w), q.div(w.abs().add(1)), q.maximum(w), q.minimum(w)], 2);
  const qi = q.cast('i32'); // truncation toward zero
  const wi = w.mul(3).cast('i32');
  const qu = q.abs().mul(5).cast('u32');
  const wu = w.abs().mul(5).cast('u32');
  const kinds = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
  outs.compare = b.concat([...kinds.map((k) => q.compare(k, w)), ...kinds.map((k) => qi.compare(k, wi)), ...kinds.map((k) => qu.compare(k, wu))], 2);
  outs.casts = b.concat([qi.cast('f32'), qu.cast('f32'), qi.cast('u32').cast('f32').compare('eq', qu.cast('f32'))], 2);
  outs.select = q.compare('gt', 0).select(q, w.mul(10));
  outs.fills = b.concat([b.fill(0.25, [2, 3, 4]), b.fill(7, [2, 3, 4], 'i32').cast('f32'), q.add(b.scalar(1.5))], 2);
  outs.reduce = b.concat([q.sum(0).broadcastTo([2, 3, 4]), q.max(0).broadcastTo([2, 3, 4]), q.mean(1).broadcastTo([2, 3, 4]), q.max(2)], 2);
  outs.topk = q.topk(2, 1).cast('f32'); // [2, 2, 4], middle axis
  outs.movement = b.concat([q.permute([2, 0, 1]).reshape([2, 3, 4]), q.slice([[1, 2], [0, 2], [1, 3]]).pad([1, 1, 1], [0, 0, 1]), q.slice([null, null, [0, 2]]).pad([0, 0, 0], [0, 0, 2]), q.slice([null, null, null])], 2);
  outs.permute4 = q.reshape([2, 3, 2, 2]).permute([3, 1, 0, 2]);
  const x4 = q.reshape([2, 3, 2, 2]);
  // gather on axis 2 of [2, 3, 2, 2] with index [2, 1, 3]: broadcast over axis 1 only.
  outs.gatherMixed = x4.gather(b.constant([1, 0, 1, 0, 0, 1], [2, 1, 3], 'i32'), 2);
  outs.gatherShared = q.gather(b.constant([2, 0, 2, 1], [1, 4], 'i32'), 1);
  outs.gatherTopk = q.gather(q.topk(3, 2), 2);
  outs.gatherU32 = q.gather(b.constant([1, 1, 0], [1, 3], 'u32'), 1);
  outs.scatterShared = q.scatterAdd(b.constant([1, 1, 0], [1, 3], 'i32'), 1, 2); // same row for both images
  outs.scatterFull = q.scatterAdd(b.constant([0, 2, 2, 1, 1, 1], [2, 3], 'i32'), 1, 3);
  outs.gradientControl = q.stopGradient().add(q.sigmoid().straightThrough(q.mul(100)));
  outs.softmaxMiddleAxis = softmax(q, 1);
  outs.matmul = q.matmul(w.transpose()).add(b.constant(uniform(rng, 9, -1, 1), [3, 3]));
  for (const [k, v] of Object.entries(outs)) b.output(k, v);
  return { graph: b.build(), feeds, outputs: Object.keys(outs) };
}

test('every op of the vocabulary except rand and attentionBackward (training graphs only) exports and runs in ONNX Runtime', async (t) => {
  const { graph, feeds, outputs } = coverageGraph();
  const used = new Set(graph.nodes.map((n) => n.op));
  assert.deepEqual(OP_NAMES.filter((o) => !used.has(o)), ['rand', 'attentionBackward'], 'the coverage graph uses every op but rand and attentionBackward');
  const proto = exportOnnx(graph, { weights: { w: feeds.w! }, outputs });
  assert.equal(operatorCounts(proto).get('Softmax'), 1, 'softmax along axis 1 is one Softmax node');
  const r = await verifyAgainstReference(graph, encodeOnnx(proto), outputs, feeds);
  for (const o of outputs) {
    const d = r.outputs[o]!;
    t.diagnostic(`${o}: ${d.rel.toExponential(2)}`);
    assert.ok(d.rel <= TOL, `${o}: element ${d.at}: ORT ${r.ort[o]![d.at]} vs reference ${r.reference[o]![d.at]}`);
  }
});

test('errors name what cannot be exported', async () => {
  // A training graph: dropout and DropPath draw random numbers (rand has no ONNX equivalent).
  const spec = { ...specOf({ name: '', preset: 'vit-micro', method: 'adaptformer' }), training: { dropout: 0.1, dropPath: 0.1 } };
  const m = buildModel(spec);
  const w = initialWeights(spec, 1);
  assert.throws(() => exportOnnx(m.graph, { weights: w }), (e: Error) => {
    assert.ok(e instanceof OnnxExportError);
    assert.match(e.message, /no ONNX equivalent: rand \(nodes %\d+/);
    assert.match(e.message, /inference graph/);
    return true;
  });
  const inf = buildModel(specOf({ name: '', preset: 'vit-micro', method: 'adaptformer' }));
  const partial = new Map(w);
  partial.delete('blocks.2.adapter_mlp.up.weight');
  assert.throws(() => exportOnnx(inf.graph, { weights: partial }), /no value for parameter\(s\) blocks\.2\.adapter_mlp\.up\.weight \[16,8\]/);
  assert.throws(() => exportOnnx(inf.graph, { weights: w, outputs: ['sizes'] }), /no output "sizes" \(outputs: logits, loss\)/);
  const short = new Map(w).set('head.bias', new Float32Array(2));
  assert.throws(() => exportOnnx(inf.graph, { weights: short }), /"head\.bias" has 2 values, its shape \[5\] needs 5/);
  // The loss output needs the onehot input: it becomes a model input too.
  const both = exportOnnx(inf.graph, { weights: w, outputs: ['logits', 'loss'] });
  assert.deepEqual(both.graph!.input!.map((v) => v.name).sort(), ['images', 'onehot']);
});
