// Checkpoint interchange with timm + the official FPET code: the name table both ways (by
// pattern, so optional tensors such as adapter biases map too), the ViT-B/16 state-dict names and
// shapes the reference code creates, export → import round trips (identical tensors, identical
// float64 logits), importing a PyTorch-side file without our metadata, and the docs table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type TensorEntry } from '../../src/core/io/safetensors.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { buildModel, modelParamShapes, type ModelSpec } from '../../src/fpet/models/model.ts';
import { maxRelDiff } from '../../src/core/export/verify.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import {
  fromReferenceNames, isReferenceNaming, nameTableMarkdown, ourName, readReferenceCheckpoint, referenceCaveats,
  referenceName, toReferenceNames, withoutMerging, writeReferenceCheckpoint,
} from '../../src/fpet/export/timm.ts';
import { SHIPPED_BACKBONE, specOf, testImages, trainedLikeWeights, type Case } from './helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'fpet-timm-'));

test('name table: our adapter names ↔ the reference modules, by pattern, both ways', () => {
  const pairs: [string, string][] = [
    ['blocks.0.adapter_mlp.down.weight', 'blocks.0.adapter_mlp.adapter_down.weight'],
    ['blocks.11.adapter_mlp.up.weight', 'blocks.11.adapter_mlp.adapter_up.weight'],
    ['blocks.3.attn.adapter_q.down.weight', 'blocks.3.attn.lora_q.adapter_down.weight'],
    ['blocks.3.attn.adapter_v.up.weight', 'blocks.3.attn.lora_v.adapter_up.weight'],
    ['blocks.6.merge.adapter_refine.down.weight', 'blocks.6.refinement.adapter_down.weight'],
    ['blocks.6.merge.adapter_refine.up.weight', 'blocks.6.refinement.adapter_up.weight'],
    // optional tensors of the same modules (adapter biases) follow the same rule
    ['blocks.2.adapter_mlp.down.bias', 'blocks.2.adapter_mlp.adapter_down.bias'],
    ['blocks.2.attn.adapter_v.up.bias', 'blocks.2.attn.lora_v.adapter_up.bias'],
    ['blocks.4.merge.adapter_refine.up.bias', 'blocks.4.refinement.adapter_up.bias'],
  ];
  for (const [ours, ref] of pairs) {
    assert.equal(referenceName(ours), ref);
    assert.equal(ourName(ref), ours);
    assert.equal(referenceName(ref), ref, 'reference names pass through');
    assert.equal(ourName(ours), ours, 'our names pass through');
  }
  for (const same of ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'blocks.5.attn.qkv.bias', 'blocks.0.mlp.fc2.weight', 'norm.weight', 'pre_logits.fc.weight', 'head.bias']) {
    assert.equal(referenceName(same), same);
    assert.equal(ourName(same), same);
  }
  assert.throws(() => referenceName('blocks.1.adapter_attn.down.weight'), /no reference name for adapter parameter "blocks\.1\.adapter_attn\.down\.weight"/);
  assert.throws(() => fromReferenceNames(new Map([['blocks.0.adapter_mlp.down.weight', 1], ['blocks.0.adapter_mlp.adapter_down.weight', 2]])), /both map to "blocks\.0\.adapter_mlp\.down\.weight"/);
  assert.equal(isReferenceNaming(['cls_token', 'blocks.0.attn.lora_q.adapter_down.weight']), true);
  assert.equal(isReferenceNaming(['cls_token', 'blocks.0.attn.adapter_q.down.weight']), false);
  assert.equal(isReferenceNaming(['cls_token', 'head.weight']), false, 'a plain timm ViT is not reference-specific');
});

test('ViT-B/16 names and shapes are those the reference code creates (timm 0.4.12 + adaptformer.py/lora.py + apply_fpet.py)', () => {
  // AdaptFormer dim 8 + FPET at r_layer 6: Block.adapter_mlp = Adapter(8, 32) → adapter_down = Linear(768, 8)
  // ([8, 768]), adapter_up = Linear(8, 768) ([768, 8]); Block.refinement = Adapter(dim=32, bit=1, in_dim=64).
  const af = toReferenceNames(modelParamShapes(specOf({ name: '', preset: 'vit-b16', method: 'adaptformer', merge: { kind: 'fpet', blocks: [6] } })));
  for (let i = 0; i < 12; i++) {
    assert.deepEqual(af.get(`blocks.${i}.adapter_mlp.adapter_down.weight`), [8, 768]);
    assert.deepEqual(af.get(`blocks.${i}.adapter_mlp.adapter_up.weight`), [768, 8]);
  }
  assert.deepEqual(af.get('blocks.6.refinement.adapter_down.weight'), [32, 64]);
  assert.deepEqual(af.get('blocks.6.refinement.adapter_up.weight'), [64, 32]);
  assert.deepEqual(af.get('pre_logits.fc.weight'), [768, 768], 'in21k representation layer');
  assert.deepEqual(af.get('patch_embed.proj.weight'), [768, 3, 16, 16]);
  assert.deepEqual(af.get('blocks.0.attn.qkv.weight'), [2304, 768]);
  assert.equal(af.size, 4 + 12 * 12 + 2 + 2 + 2 + 12 * 2 + 2);
  assert.equal([...af.keys()].filter((k) => k.includes('adapter')).length, 12 * 2 + 2, 'every adapter tensor has "adapter" in its name (main.py trains those)');
  // Bi-LoRA dim 32: Attention.lora_q / lora_v = Adapter(32, 1) → [32, 768] and [768, 32].
  const lora = toReferenceNames(modelParamShapes(specOf({ name: '', preset: 'vit-b16', method: 'lora', bits: 1 })));
  assert.deepEqual(lora.get('blocks.11.attn.lora_q.adapter_down.weight'), [32, 768]);
  assert.deepEqual(lora.get('blocks.11.attn.lora_v.adapter_up.weight'), [768, 32]);
  assert.equal([...lora.keys()].filter((k) => /lora_[qv]\.adapter_(down|up)\.weight$/.test(k)).length, 48);
});

const ROUND_TRIPS: readonly Case[] = [
  { name: 'shipped, AdaptFormer + FPET (block 3)', preset: 'vit-mnist', method: 'adaptformer', shipped: true, merge: { kind: 'fpet', blocks: [3], ratio: 0.5 } },
  { name: 'random vit-micro, Bi-LoRA (s 0.1) + ToMe', preset: 'vit-micro', method: 'lora', bits: 1, scale: 0.1, merge: { kind: 'tome', blocks: [0, 1], r: 2 } },
  { name: 'random vit-micro, Bi-AdaptFormer + FPET ratio 0.25', preset: 'vit-micro', method: 'adaptformer', bits: 1, merge: { kind: 'fpet', blocks: [1], ratio: 0.25 } },
  { name: 'random vit-micro, linear probe', preset: 'vit-micro', method: 'linear' },
  { name: 'random vit-micro, LoRA with biases + FPET', preset: 'vit-micro', method: 'lora', bias: true, merge: { kind: 'fpet', blocks: [2] } },
];

for (const [i, c] of ROUND_TRIPS.entries()) {
  test(`round trip through the reference names: ${c.name}`, async () => {
    const dir = tmp();
    try {
      const spec = specOf(c);
      const weights = await trainedLikeWeights(spec, 40 + i, c.shipped);
      const path = join(dir, 'model.safetensors');
      const written = await writeReferenceCheckpoint(path, spec, weights);
      assert.equal(written.tensors, modelParamShapes(spec).size);
      const raw = await readSafetensors(path);
      assert.equal(raw.metadata.format, 'pt');
      if (spec.pet.method === 'adaptformer' || spec.pet.method === 'lora') assert.ok(isReferenceNaming(raw.tensors.keys()));
      for (const [name, t] of raw.tensors) assert.deepEqual(t.shape, modelParamShapes(spec).get(ourName(name)), `${name}: same layout as ours`);
      const back = await readReferenceCheckpoint(path, { batch: spec.batch });
      assert.deepEqual(JSON.parse(JSON.stringify(back.spec)), JSON.parse(JSON.stringify(spec)));
      assert.deepEqual([...back.weights.keys()].sort(), [...weights.keys()].filter((k) => modelParamShapes(spec).has(k)).sort());
      for (const [k, v] of back.weights) assert.deepEqual(v, weights.get(k), `${k} is bit-identical`);
      const graph = buildModel(spec).graph;
      const images = testImages(spec, 3);
      const onehot = new Float32Array(spec.batch * spec.vit.numClasses);
      const a = evaluate(graph, { ...Object.fromEntries(weights), images, onehot }).outputs.logits!.data;
      const b = evaluate(graph, { ...Object.fromEntries(back.weights), images, onehot }).outputs.logits!.data;
      assert.deepEqual(b, a, 'identical float64 logits');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('importing a PyTorch-side checkpoint: reference names, no spec metadata, adapters + head only (as the reference saves them)', async () => {
  const dir = tmp();
  try {
    const c: Case = { name: '', preset: 'vit-mnist', method: 'adaptformer', bits: 1, scale: 10, shipped: true, merge: { kind: 'fpet', blocks: [3] } };
    const spec = specOf(c);
    const weights = await trainedLikeWeights(spec, 9, true);
    const shapes = modelParamShapes(spec);
    // main.py's trainable set: names containing "adapter" or "head".
    const saved = new Map<string, TensorEntry>();
    for (const [k, shape] of toReferenceNames(shapes)) {
      if (k.includes('adapter') || k.includes('head')) saved.set(k, { dtype: 'F32', shape, data: weights.get(ourName(k))! });
    }
    const path = join(dir, 'from-pytorch.safetensors');
    await writeSafetensors(path, saved, { format: 'pt' });
    const backbone = (await readSafetensors(SHIPPED_BACKBONE)).tensors;
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2, backbone }), /does not record the adapter precision: give it \(--bits 32\|1/);
    const got = await readReferenceCheckpoint(path, { batch: 2, backbone, bits: 1, scale: 10 });
    assert.deepEqual(JSON.parse(JSON.stringify(got.spec)), JSON.parse(JSON.stringify(spec)), 'method, dims, FPET block and the geometry inferred; bits and scale given');
    assert.ok(got.notes.some((n) => /backbone tensors taken from the backbone file/.test(n)));
    const graph = buildModel(spec).graph;
    const images = testImages(spec, 4);
    const onehot = new Float32Array(spec.batch * 10);
    const a = evaluate(graph, { ...Object.fromEntries(weights), images, onehot }).outputs.logits!.data;
    const b = evaluate(graph, { ...Object.fromEntries(got.weights), images, onehot }).outputs.logits!.data;
    assert.deepEqual(b, a);
    // Without the head, the backbone file's pre-training head is not used in its place.
    saved.delete('head.weight');
    await writeSafetensors(path, saved, { format: 'pt' });
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2, backbone, bits: 1, scale: 10, vit: VIT_PRESETS['vit-mnist'] }), /head\.weight/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('importing a full PyTorch state dict with adapter biases: precision and scale from its metadata, biases detected', async () => {
  const dir = tmp();
  try {
    const spec = specOf({ name: '', preset: 'vit-micro', method: 'lora', bits: 1, scale: 0.1, bias: true });
    const weights = await trainedLikeWeights(spec, 12);
    const tensors = new Map<string, TensorEntry>([...toReferenceNames(modelParamShapes(spec))].map(([k, shape]) => [k, { dtype: 'F32', shape, data: weights.get(ourName(k))! }]));
    const path = join(dir, 'state_dict.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt', bit: '1', scale: '0.1' });
    const got = await readReferenceCheckpoint(path, { batch: 2 });
    assert.deepEqual(JSON.parse(JSON.stringify(got.spec)), JSON.parse(JSON.stringify(spec)));
    assert.deepEqual(got.fromBackbone, []);
    for (const [k, v] of got.weights) assert.deepEqual(v, weights.get(k));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('caveats name what the reference code cannot run as is', () => {
  assert.deepEqual(referenceCaveats(specOf({ name: '', preset: 'vit-b16', method: 'adaptformer', merge: { kind: 'fpet', blocks: [6] } })), []);
  const c = referenceCaveats(specOf({ name: '', preset: 'vit-mnist', method: 'lora', merge: { kind: 'fpet', blocks: [2, 4], ratio: 0.3 } }));
  assert.ok(c.some((s) => /blocks 2, 4/.test(s)) && c.some((s) => /ratio 0\.3/.test(s)) && c.some((s) => /in_dim=64/.test(s)) && c.some((s) => /dim_key=16/.test(s)));
});

test('docs/interchange.md carries the name table', () => {
  const doc = readFileSync('docs/interchange.md', 'utf8');
  for (const line of nameTableMarkdown().split('\n')) assert.ok(doc.includes(line), `docs/interchange.md lacks the table row: ${line}`);
});

// ---------------------------------------------------------------------------------------------
// The input crop travels with the model, and a model changed in PyTorch comes back whole

/** Rewrites a safetensors file the way safetensors.torch.save_file does: tensors sorted by name (one dtype), the given metadata. */
async function saveAsPyTorch(path: string, tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, metadata: Record<string, string>): Promise<void> {
  const sorted = new Map<string, TensorEntry>([...tensors.keys()].sort().map((k) => [k, { dtype: 'F32', shape: tensors.get(k)!.shape, data: tensors.get(k)!.data }]));
  await writeSafetensors(path, sorted, metadata);
}

const logitsOf = (spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, images: Float32Array) =>
  evaluate(buildModel(spec).graph, { ...Object.fromEntries(weights), images, onehot: new Float32Array(spec.batch * spec.vit.numClasses) }).outputs.logits!.data;

test('the input crop is written in the reference metadata; import reads it, refuses a contradiction and states a missing one', async () => {
  const dir = tmp();
  try {
    const spec: ModelSpec = { ...specOf({ name: '', preset: 'vit-mnist', method: 'adaptformer', shipped: true, merge: { kind: 'fpet', blocks: [3] } }), inputCrop: 20 };
    const weights = await trainedLikeWeights(spec, 5, true);
    const path = join(dir, 'model.safetensors');
    await writeReferenceCheckpoint(path, spec, weights);
    const { tensors, metadata } = await readSafetensors(path);
    assert.equal(metadata['reference.input_crop'], '20');
    assert.equal(metadata['reference.image_size'], '28');
    assert.equal((await readReferenceCheckpoint(path, { batch: 2 })).spec.inputCrop, 20);
    // Without our spec (a PyTorch-side writer kept the reference.* keys only): the crop still comes back.
    const withoutSpec = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'spec'));
    const f32 = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
    await saveAsPyTorch(path, f32, withoutSpec);
    const back = await readReferenceCheckpoint(path, { batch: 2 });
    assert.equal(back.spec.inputCrop, 20);
    assert.equal(back.notes.some((n) => /records no input crop/.test(n)), false);
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2, inputCrop: 24 }), /records input crop 20, not --input-crop 24; leave --input-crop out/);
    // spec and reference.input_crop disagree (one edited by hand): refused, naming both.
    await saveAsPyTorch(path, f32, { ...metadata, 'reference.input_crop': 'none' });
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2 }), /the metadata disagree about the input crop: "spec" says 20, "reference\.input_crop" says none/);
    await saveAsPyTorch(path, f32, { ...withoutSpec, 'reference.input_crop': '99' });
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2 }), /metadata "reference\.input_crop" must be "none" or an integer in \[1, 28\] \(the image size; got "99"\)/);
    // Nothing recorded (only format, bit and scale): imported without a crop, and the import says so; --input-crop supplies it.
    await saveAsPyTorch(path, f32, { format: 'pt', bit: '32', scale: '1' });
    const bare = await readReferenceCheckpoint(path, { batch: 2 });
    assert.equal(bare.spec.inputCrop, undefined);
    assert.ok(bare.notes.some((n) => /the file records no input crop \(metadata "reference\.input_crop"\): imported without one, the model sees whole 28×28 images; a model trained with --input-crop N needs --input-crop N here/.test(n)), bare.notes.join('\n'));
    assert.equal((await readReferenceCheckpoint(path, { batch: 2, inputCrop: 20 })).spec.inputCrop, 20);
    assert.equal((await readReferenceCheckpoint(path, { batch: 2, inputCrop: 28 })).spec.inputCrop, undefined, 'the image size is no crop');
    // A lying spec in the metadata is refused by the bounded schema, not trusted.
    await saveAsPyTorch(path, f32, { ...metadata, spec: JSON.stringify({ ...spec, vit: { ...spec.vit, depth: 5000 } }) });
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2 }), /metadata\.spec\.vit\.depth must be an integer in \[1, 64\]/);
    await saveAsPyTorch(path, f32, { format: 'pt', bit: '2', scale: '1' });
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2 }), /metadata "bit" must be "32" or "1" \(got "2"\)/);
    await saveAsPyTorch(path, f32, { format: 'pt', bit: '32', scale: 'NaN' });
    await assert.rejects(readReferenceCheckpoint(path, { batch: 2 }), /metadata "scale" must be a number in \[-1000, 1000\] \(got "NaN"\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('round trip: our model (crop 20, FPET) → timm file → changed as PyTorch would → back: logits within 1e-5 of the changed model\'s float64 reference', async () => {
  const dir = tmp();
  try {
    const spec: ModelSpec = { ...specOf({ name: '', preset: 'vit-mnist', method: 'adaptformer', shipped: true, merge: { kind: 'fpet', blocks: [3] } }), inputCrop: 20 };
    const weights = await trainedLikeWeights(spec, 6, true);
    const path = join(dir, 'model.safetensors');
    await writeReferenceCheckpoint(path, spec, weights);
    // "PyTorch": load_file + metadata(), fine-tune a little (head bias and one adapter weight), save_file(..., metadata=meta).
    const { tensors, metadata } = await readSafetensors(path);
    const changed = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data as Float32Array) }]));
    changed.get('head.bias')!.data[3]! += 0.75;
    const up = changed.get('blocks.2.adapter_mlp.adapter_up.weight')!.data;
    for (let i = 0; i < up.length; i += 7) up[i]! *= -1.5;
    await saveAsPyTorch(path, changed, metadata);
    // Our reference of the changed model: our weights with the same change, in float64.
    const ours = new Map(weights);
    for (const [k, t] of changed) ours.set(ourName(k), t.data);
    const images = testImages(spec, 11);
    const want = logitsOf(spec, ours, images);
    const before = logitsOf(spec, weights, images);
    assert.ok(maxRelDiff(want, before).abs > 1e-2, 'the change matters to the logits');
    for (const [variant, meta, opts] of [
      ['metadata kept', metadata, {}],
      ['only format/bit/scale kept, --input-crop 20 given', { format: 'pt', bit: '32', scale: '1' }, { inputCrop: 20 }],
    ] as const) {
      await saveAsPyTorch(path, changed, meta);
      const back = await readReferenceCheckpoint(path, { batch: spec.batch, ...opts });
      assert.equal(back.spec.inputCrop, 20, variant);
      const got = logitsOf(back.spec, back.weights, images);
      const d = maxRelDiff(got, want);
      assert.ok(d.rel <= 1e-5, `${variant}: max |Δlogit| / max(1, |logit|) = ${d.rel}`);
    }
    // The failure the issue reported: the crop lost makes a different model (now stated in a note).
    const lost = await readReferenceCheckpoint(path, { batch: spec.batch });
    assert.ok(lost.notes.some((n) => /records no input crop/.test(n)));
    assert.ok(maxRelDiff(logitsOf(lost.spec, lost.weights, images), want).abs > 1e-2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withoutMerging: the same adapters without FPET (its refinement adapter dropped) computes the no-merge model', async () => {
  const spec = specOf({ name: '', preset: 'vit-micro', method: 'lora', merge: { kind: 'fpet', blocks: [1] } });
  const weights = await trainedLikeWeights(spec, 8);
  const r = withoutMerging(spec, weights);
  assert.equal(r.spec.merge, undefined);
  assert.deepEqual(r.dropped.sort(), [...weights.keys()].filter((k) => k.includes('adapter_refine')).sort());
  assert.ok(r.dropped.length > 0);
  const images = testImages(spec, 2);
  const direct = logitsOf({ ...spec, merge: undefined }, new Map([...weights].filter(([k]) => !k.includes('adapter_refine'))), images);
  assert.deepEqual(logitsOf(r.spec, r.weights, images), direct);
});
