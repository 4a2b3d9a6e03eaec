// `npm start -- export`: from an adapters file as train writes it to an ONNX model that ONNX
// Runtime runs with the reference's logits, to a timm + FPET checkpoint, and from that checkpoint
// (reference names, detected) back to the same ONNX model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/frontends/cli/cli.ts';
import { readSafetensors } from '../../src/core/io/safetensors.ts';
import { buildModel } from '../../src/fpet/models/model.ts';
import { saveWeights } from '../../src/fpet/train/checkpoint.ts';
import { loadTrainedModel } from '../../src/fpet/train/trained-model.ts';
import { graphInputs, maxRelDiff, ortSession, referenceOutputs } from '../../src/core/export/verify.ts';
import { isReferenceNaming } from '../../src/fpet/export/timm.ts';
import { SHIPPED_BACKBONE, specOf, testImages, trainedLikeWeights } from './helpers.ts';

test('export --format onnx|timm from a trained adapters file, and back from the timm checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-export-cli-'));
  try {
    // An adapters file as train writes it (trainable tensors, the training spec, seed, backbone).
    const trainSpec = { ...specOf({ name: '', preset: 'vit-mnist', method: 'lora', bits: 1, scale: 0.1, shipped: true, merge: { kind: 'fpet', blocks: [3] } }), batch: 16, training: { dropout: 0.1, dropPath: 0.1 } };
    const weights = await trainedLikeWeights(trainSpec, 21, true);
    const built = buildModel(trainSpec);
    const adapters = join(dir, 'adapters.safetensors');
    await saveWeights(adapters, new Map(built.trainable.map((n) => [n, weights.get(n)!])), new Map(built.trainable.map((n) => [n, built.paramShapes.get(n)!])), { kind: 'adapters', spec: JSON.stringify(trainSpec), seed: '21', backbone: SHIPPED_BACKBONE });

    const onnxPath = join(dir, 'model.onnx');
    assert.equal(await runCli(['export', '--adapters', adapters, '--backbone', SHIPPED_BACKBONE, '--batch', '2', '--out', onnxPath]), 0);
    const { spec, weights: loaded } = await loadTrainedModel(adapters, SHIPPED_BACKBONE, 2);
    const graph = buildModel(spec).graph;
    const images = testImages(spec, 8);
    const ref = referenceOutputs(graph, ['logits'], { ...Object.fromEntries(loaded), images }).logits!;
    const session = await ortSession(readFileSync(onnxPath), graphInputs(graph));
    const a = (await session.run({ images })).logits!;
    await session.release();
    assert.ok(maxRelDiff(a, ref).rel <= 1e-4, `ONNX file vs reference: ${maxRelDiff(a, ref).rel}`);

    const timmPath = join(dir, 'model.safetensors');
    assert.equal(await runCli(['export', '--format', 'timm', '--adapters', adapters, '--out', timmPath]), 0);
    const file = await readSafetensors(timmPath);
    assert.ok(isReferenceNaming(file.tensors.keys()));
    assert.ok(file.tensors.has('blocks.3.refinement.adapter_down.weight') && file.tensors.has('blocks.0.attn.lora_q.adapter_up.weight') && file.tensors.has('blocks.0.attn.qkv.weight'));

    const onnx2 = join(dir, 'from-timm.onnx');
    assert.equal(await runCli(['export', '--adapters', timmPath, '--batch', '2', '--out', onnx2]), 0);
    const s2 = await ortSession(readFileSync(onnx2), graphInputs(graph));
    const b = (await s2.run({ images })).logits!;
    await s2.release();
    assert.deepEqual(b, a, 'the model exported from the timm checkpoint computes the same logits');

    // Back to our adapters format (what eval/infer/transfer read); the backbone came with the
    // timm checkpoint, so it is written next to it.
    const back = join(dir, 'back', 'adapters.safetensors');
    assert.equal(await runCli(['export', '--format', 'adapters', '--adapters', timmPath, '--out', back]), 0);
    const again = await loadTrainedModel(back, join(dir, 'back', 'backbone.safetensors'), 2);
    assert.deepEqual(JSON.parse(JSON.stringify(again.spec)), JSON.parse(JSON.stringify(spec)));
    for (const [k, v] of loaded) assert.deepEqual(again.weights.get(k), v, `${k} survives ours → timm → ours`);

    await assert.rejects(runCli(['export', '--format', 'tflite']), /--format must be one of onnx, timm, adapters/);
    await assert.rejects(runCli(['export', '--adapters', join(dir, 'missing.safetensors')]), /missing\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export --merge none: FPET-trained adapters as a no-merge model (timm and ours), the input crop kept all the way', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-export-nomerge-'));
  try {
    const trainSpec = { ...specOf({ name: '', preset: 'vit-mnist', method: 'adaptformer', shipped: true, merge: { kind: 'fpet', blocks: [3] } }), batch: 16, inputCrop: 20, training: { dropout: 0.1, dropPath: 0.1 } };
    const weights = await trainedLikeWeights(trainSpec, 31, true);
    const built = buildModel(trainSpec);
    const adapters = join(dir, 'adapters.safetensors');
    await saveWeights(adapters, new Map(built.trainable.map((n) => [n, weights.get(n)!])), built.paramShapes, { kind: 'adapters', spec: JSON.stringify(trainSpec), seed: '31', backbone: SHIPPED_BACKBONE });
    const timm = join(dir, 'no-merge.safetensors');
    assert.equal(await runCli(['export', '--format', 'timm', '--merge', 'none', '--adapters', adapters, '--backbone', SHIPPED_BACKBONE, '--out', timm]), 0);
    const file = await readSafetensors(timm);
    assert.equal([...file.tensors.keys()].some((k) => k.includes('refinement')), false, 'FPET\'s refinement adapter is dropped');
    assert.ok(file.tensors.has('blocks.3.adapter_mlp.adapter_up.weight'));
    assert.equal(file.metadata['reference.input_crop'], '20');
    assert.equal(file.metadata['reference.r_layer'], undefined);
    // Back to our adapters file: the no-merge model with the crop, computing what the same weights compute without merging.
    const back = join(dir, 'back', 'adapters.safetensors');
    assert.equal(await runCli(['export', '--format', 'adapters', '--adapters', timm, '--out', back]), 0);
    const again = await loadTrainedModel(back, join(dir, 'back', 'backbone.safetensors'), 2);
    assert.equal(again.spec.merge, undefined);
    assert.equal(again.spec.inputCrop, 20);
    const { spec, weights: full } = await loadTrainedModel(adapters, SHIPPED_BACKBONE, 2);
    const noMerge = { ...spec, merge: undefined };
    const images = testImages(noMerge, 5);
    const want = referenceOutputs(buildModel(noMerge).graph, ['logits'], { ...Object.fromEntries([...full].filter(([k]) => !k.includes('adapter_refine'))), images }).logits!;
    const got = referenceOutputs(buildModel(again.spec).graph, ['logits'], { ...Object.fromEntries(again.weights), images }).logits!;
    assert.ok(maxRelDiff(got, want).rel <= 1e-6, `${maxRelDiff(got, want).rel}`);
    // Without --force the file is not replaced.
    await assert.rejects(runCli(['export', '--format', 'timm', '--adapters', adapters, '--out', timm]), /already exists; replace it with --force/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
