// `export`: a trained model as an ONNX model (ONNX Runtime on CPU/CUDA, Triton's ORT backend,
// onnxruntime-web), as a timm + FPET PyTorch checkpoint (safetensors in the reference code's
// names), or as our own adapters file. The input is what train wrote (adapters file + backbone),
// or a checkpoint in the reference's names (detected, or --from timm), e.g. one trained with the
// PyTorch code: `--format adapters` brings such a checkpoint back for eval, infer and transfer.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError, type OptionSpec, type Parsed } from '../args.ts';
import { defineCommand } from '../command.ts';
import { backboneOption, describeSpec } from '../model-options.ts';
import { buildModel, modelParamShapes, type ModelSpec } from '../../../fpet/models/model.ts';
import { VIT_PRESETS, vitParamShapes, type VitPreset } from '../../../fpet/models/vit.ts';
import { readSafetensors } from '../../../core/io/safetensors.ts';
import { loadTrainedModel } from '../../../fpet/train/trained-model.ts';
import { saveWeights } from '../../../fpet/train/checkpoint.ts';
import { exportOnnx, encodeOnnx, ONNX_OPSET, operatorCounts } from '../../../core/export/onnx.ts';
import { isReferenceNaming, readReferenceCheckpoint, referenceCaveats, REFERENCE_FORMAT, writeReferenceCheckpoint } from '../../../fpet/export/timm.ts';
import { verifyAgainstReference } from '../../../core/export/verify.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';


const OPTIONS = {
  format: { type: 'string', default: 'onnx', choices: ['onnx', 'timm', 'adapters'], help: 'onnx: an ONNX model (opset 17) of the inference graph; timm: safetensors with timm + FPET reference names; adapters: our adapters file (as train writes it, for eval/infer/transfer), plus backbone.safetensors next to it when the backbone came from the input checkpoint' },
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'the trained model: adapters (or full model) file written by train, or a timm + FPET checkpoint' },
  backbone: backboneOption('backbone the adapters were trained on ("random" if none)'),
  from: { type: 'string', default: 'auto', choices: ['auto', 'ours', 'timm'], help: 'naming of --adapters: auto detects the reference (timm + FPET) names' },
  batch: { type: 'number', default: 1, integer: true, min: 1, help: 'batch size of the ONNX model (its input is images [batch, C, H, W] in [0, 1])' },
  out: { type: 'string', help: 'output file (default: runs/export/model.onnx, runs/export/model.safetensors for timm, runs/export/adapters.safetensors for adapters)' },
  verify: { type: 'boolean', default: true, help: 'onnx: run the model in ONNX Runtime (CPU) on random images and compare its logits with the float64 reference (needs the dev dependency onnxruntime-node); timm: read the file back and compare every tensor' },
  preset: { type: 'string', choices: Object.keys(VIT_PRESETS), help: 'reference checkpoints without our metadata: backbone geometry (default: the preset whose shapes match)' },
  bits: { type: 'number', help: 'reference checkpoints without our metadata: adapter precision 32 or 1 (the reference config\'s `bit`)' },
  adapterScale: { type: 'number', help: 'reference checkpoints without our metadata: adapter scale s (the reference config\'s `scale`; default 1)' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

/** Reads the trained model: ours (via train's loader) or a reference-named checkpoint. */
async function loadModel(a: Parsed<typeof OPTIONS>): Promise<{ spec: ModelSpec; weights: Map<string, Float32Array>; notes: string[]; backboneInFile: boolean }> {
  const backbonePath = a.backbone === 'random' ? undefined : a.backbone;
  let reference = a.from === 'timm';
  if (a.from === 'auto') {
    const { tensors, metadata } = await readSafetensors(a.adapters).catch((e: Error) => {
      throw new Error(`--adapters ${a.adapters}: ${e.message}`);
    });
    // Ours always carry their spec; a file without one comes from elsewhere (the reference code, timm).
    reference = metadata.naming === REFERENCE_FORMAT || isReferenceNaming(tensors.keys()) || !metadata.spec;
  }
  if (!reference) {
    const m = await loadTrainedModel(a.adapters, backbonePath, a.batch);
    return { ...m, notes: [], backboneInFile: false };
  }
  if (a.bits !== undefined && a.bits !== 32 && a.bits !== 1) throw new UsageError(`export: --bits must be 32 or 1 (got ${a.bits})`);
  const backbone = backbonePath ? (await readSafetensors(backbonePath)).tensors : undefined;
  const r = await readReferenceCheckpoint(a.adapters, {
    batch: a.batch,
    backbone,
    vit: a.preset ? VIT_PRESETS[a.preset as VitPreset] : undefined,
    bits: a.bits as 32 | 1 | undefined,
    scale: a.adapterScale,
  });
  return { ...r, backboneInFile: r.fromBackbone.length === 0 };
}

/** Deterministic images in [0, 1) for the verification run. */
function verificationImages(spec: ModelSpec): Float32Array {
  const v = spec.vit;
  let s = 0x9e3779b9;
  return Float32Array.from({ length: spec.batch * v.inChannels * v.imageSize * v.imageSize }, () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return (s >>> 8) / 16777216;
  });
}

export default defineCommand({
  summary: 'Export a trained model as ONNX (ONNX Runtime, Triton, onnxruntime-web) or as a timm + FPET PyTorch checkpoint.',
  options: OPTIONS,
  async run(a, session) {
    if (a._.length) throw new UsageError(`export: unexpected argument(s) ${a._.join(' ')} (boolean options take --name=false)`);
    const out = a.out ?? `runs/export/${a.format === 'onnx' ? 'model.onnx' : a.format === 'timm' ? 'model.safetensors' : 'adapters.safetensors'}`;
    const { spec, weights, notes, backboneInFile } = await loadModel(a);
    console.log(`model: ${describeSpec(spec)} (${a.adapters}${a.backbone === 'random' ? '' : ` on ${a.backbone}`})`);
    for (const n of notes) console.log(`  note: ${n}`);
    mkdirSync(dirname(out), { recursive: true });

    if (a.format === 'adapters') {
      // What train writes: the trainable tensors and the spec; the backbone stays a separate file.
      const built = buildModel(spec);
      const names = spec.pet.method === 'full' ? [...built.paramShapes.keys()] : built.trainable;
      await saveWeights(out, new Map(names.map((n) => [n, weights.get(n)!])), built.paramShapes, { kind: 'adapters', spec: JSON.stringify({ ...spec, training: undefined }), seed: '0', source: a.adapters });
      let backbone = a.backbone;
      if (backboneInFile && spec.pet.method !== 'full') {
        backbone = join(dirname(out), 'backbone.safetensors');
        const shapes = vitParamShapes(spec.vit);
        for (const k of ['head.weight', 'head.bias']) shapes.delete(k);
        await saveWeights(backbone, new Map([...shapes.keys()].map((k) => [k, weights.get(k)!])), shapes, { kind: 'model', source: a.adapters });
        console.log(`wrote ${backbone}: the backbone from ${a.adapters} (timm names)`);
      }
      console.log(`wrote ${out}: ${names.length} tensors in our names with the model spec`);
      console.log(`use it as train's output: npm start -- eval --adapters ${out} --backbone ${backbone}`);
      return 0;
    }

    if (a.format === 'timm') {
      const r = await writeReferenceCheckpoint(out, spec, weights, { source: a.adapters });
      console.log(`wrote ${out}: ${r.tensors} tensors in timm + FPET reference names (load with safetensors.torch.load_file; see docs/interchange.md)`);
      for (const c of referenceCaveats(spec)) console.log(`  caveat: ${c}`);
      if (a.verify) {
        const back = await readReferenceCheckpoint(out, { batch: spec.batch });
        const bad = [...modelParamShapes(spec).keys()].filter((k) => {
          const v = weights.get(k)!, w = back.weights.get(k);
          return !w || w.length !== v.length || w.some((x, i) => !Object.is(x, v[i]));
        });
        if (bad.length) {
          console.error(`verify: ${bad.length} tensors differ after reading ${out} back: ${bad.slice(0, 5).join(', ')}`);
          return 1;
        }
        console.log(`verify: read back, ${back.weights.size} tensors bit-identical under our names`);
      }
      return 0;
    }

    const model = buildModel(spec);
    const t0 = performance.now();
    const proto = exportOnnx(model.graph, {
      weights,
      outputs: ['logits'],
      name: 'fpet_webgpu',
      docString: `${describeSpec(spec)}. Input images [${model.graph.output('logits').type.shape[0]}, ${spec.vit.inChannels}, ${spec.vit.imageSize}, ${spec.vit.imageSize}] in [0, 1] (no normalisation); output logits.`,
      metadata: { spec: JSON.stringify({ ...spec, training: undefined }), source: a.adapters },
    });
    const bytes = encodeOnnx(proto);
    await writeFileAtomic(out, bytes);
    const ops = [...operatorCounts(proto)].sort((p, q) => q[1] - p[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`wrote ${out}: ${(bytes.length / 2 ** 20).toFixed(2)} MiB, opset ${ONNX_OPSET}, ${proto.graph!.node!.length} nodes (${ops}), input images [${spec.batch}, ${spec.vit.inChannels}, ${spec.vit.imageSize}, ${spec.vit.imageSize}], output logits [${spec.batch}, ${spec.vit.numClasses}] (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
    if (a.verify) {
      const images = verificationImages(spec);
      const r = await verifyAgainstReference(model.graph, bytes, ['logits'], { ...Object.fromEntries(weights), images });
      const d = r.outputs.logits!;
      const ok = d.rel <= 1e-4;
      console.log(`verify: ONNX Runtime (CPU) vs the float64 reference on ${spec.batch} random image(s): max |Δlogit| / max(1, |logit|) = ${d.rel.toExponential(2)} (${ok ? 'ok' : 'FAILED'}, tolerance 1e-4)`);
      if (!ok) return 1;
    }
    return 0;
  },
});
