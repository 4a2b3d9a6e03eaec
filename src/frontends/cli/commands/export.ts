// `export`: a trained model as an ONNX model (ONNX Runtime on CPU/CUDA, Triton's ORT backend,
// onnxruntime-web), as a timm + FPET PyTorch checkpoint (safetensors in the reference code's
// names), or as our own adapters file. The input is what train wrote (adapters file + backbone),
// or a checkpoint in the reference's names (detected, or --from timm), e.g. one trained with the
// PyTorch code: `--format adapters` brings such a checkpoint back for eval, infer and transfer.
// `--merge none` exports the same adapters without token merging (a plain ViT + adapters).
//
// Everything that can be checked is checked before a file is read or written: the options, the
// output file (not a folder, not an input, an existing file only with --force, a writable folder)
// and, for ONNX with --verify, the memory the float64 reference check would take.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, type OptionSpec, type Parsed } from '../args.ts';
import { defineCommand } from '../command.ts';
import { backboneOption, describeSpec, INPUT_CROP_HELP } from '../model-options.ts';
import { buildModel, modelParamShapes, type ModelSpec } from '../../../fpet/models/model.ts';
import { VIT_PRESETS, vitParamShapes, type VitPreset } from '../../../fpet/models/vit.ts';
import { readSafetensors, readSafetensorsHeader } from '../../../core/io/safetensors.ts';
import { MODEL_SPEC_LIMITS } from '../../../core/io/schema.ts';
import { loadTrainedModel } from '../../../fpet/train/trained-model.ts';
import { saveWeights } from '../../../fpet/train/checkpoint.ts';
import { FILE_FORMAT, missingSpecMessage } from '../../../fpet/train/model-files.ts';
import { exportOnnx, encodeOnnx, ONNX_OPSET, operatorCounts } from '../../../core/export/onnx.ts';
import { isReferenceNaming, readReferenceCheckpoint, referenceCaveats, REFERENCE_FORMAT, withoutMerging, writeReferenceCheckpoint } from '../../../fpet/export/timm.ts';
import { verifyAgainstReference } from '../../../core/export/verify.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { checkOutputFile, makeDir } from '../../../core/util/files.ts';
import { count, display } from '../../../core/util/text.ts';

const OPTIONS = {
  format: { type: 'string', default: 'onnx', choices: ['onnx', 'timm', 'adapters'], help: 'onnx: an ONNX model (opset 17) of the inference graph; timm: safetensors with timm + FPET reference names; adapters: our adapters file (as train writes it, for eval/infer/transfer), plus backbone.safetensors next to it when the backbone came from the input checkpoint' },
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'the trained model: adapters (or full model) file written by train, or a timm + FPET checkpoint' },
  backbone: backboneOption('backbone the adapters were trained on ("random" if none)'),
  from: { type: 'string', default: 'auto', choices: ['auto', 'ours', 'timm'], help: 'naming of --adapters: auto detects the reference (timm + FPET) names' },
  merge: { type: 'string', default: 'keep', choices: ['keep', 'none'], help: 'keep the model\'s token merging, or export it without merging (FPET\'s refinement adapter dropped; every token through every block)' },
  batch: { type: 'number', default: 1, integer: true, min: 1, max: MODEL_SPEC_LIMITS.maxBatch, help: 'batch size of the ONNX model (its input is images [batch, C, H, W] in [0, 1])' },
  out: { type: 'string', help: 'output file (default: runs/export/model.onnx, runs/export/model.safetensors for timm, runs/export/adapters.safetensors for adapters)' },
  force: { type: 'boolean', default: false, help: 'replace an existing output file' },
  verify: { type: 'boolean', default: true, help: 'onnx: run the model in ONNX Runtime (CPU) on random images and compare its logits with the float64 reference (needs the dev dependency onnxruntime-node); timm: read the file back and compare every tensor' },
  preset: { type: 'string', choices: Object.keys(VIT_PRESETS), help: 'reference checkpoints without our metadata: backbone geometry (default: the preset whose shapes match)' },
  bits: { type: 'number', help: 'reference checkpoints without our metadata: adapter precision 32 or 1 (the reference config\'s `bit`)' },
  adapterScale: { type: 'number', min: -MODEL_SPEC_LIMITS.maxAdapterScale, max: MODEL_SPEC_LIMITS.maxAdapterScale, help: 'reference checkpoints without our metadata: adapter scale s (the reference config\'s `scale`; default 1)' },
  inputCrop: { type: 'number', integer: true, min: 1, max: MODEL_SPEC_LIMITS.maxImageSize, help: `reference checkpoints that do not record it (metadata reference.input_crop): ${INPUT_CROP_HELP}; the image size: none` },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

type ExportArgs = Parsed<typeof OPTIONS>;

/** Memory the float64 reference check of an ONNX export may take (it keeps every value of the graph). */
export const VERIFY_MEMORY_BYTES = 2 * 2 ** 30;

/** A loaded model: spec, weights, what was inferred, and whether the backbone came with the input file. */
interface Loaded {
  spec: ModelSpec;
  weights: Map<string, Float32Array>;
  notes: string[];
  backboneInFile: boolean;
}

/** The output file: the option or the format's default. */
const outOf = (a: ExportArgs): string => a.out ?? `runs/export/${a.format === 'onnx' ? 'model.onnx' : a.format === 'timm' ? 'model.safetensors' : 'adapters.safetensors'}`;

/** Options and the output file, checked before anything is read. */
function checkArgs(a: ExportArgs): string {
  if (a._.length) throw new UsageError(`export: unexpected argument(s) ${a._.map((x) => display(x, 80)).join(' ')} (boolean options take --name=false)`);
  if (a.bits !== undefined && a.bits !== 32 && a.bits !== 1) throw new UsageError(`export: --bits must be 32 or 1 (got ${a.bits})`);
  if (!existsSync(a.adapters)) throw new Error(`--adapters ${display(a.adapters)}: no such file (train writes <out>/adapters.safetensors)`);
  const out = outOf(a);
  const inputs = [a.adapters, a.backbone].filter((p) => p !== 'random');
  if (inputs.some((p) => resolve(p) === resolve(out))) throw new UsageError(`export: --out ${display(out)} is an input of the export (--adapters or --backbone); write the export elsewhere`);
  checkOutputFile(out, '--out', { replace: a.force });
  return out;
}

/** Whether --adapters is in the reference's naming (or another tool's), from --from or its header. */
async function isReferenceFile(a: ExportArgs): Promise<boolean> {
  if (a.from !== 'auto') return a.from === 'timm';
  const { tensors, metadata } = await readSafetensorsHeader(a.adapters).catch((e: Error) => {
    throw new Error(`--adapters ${e.message}`);
  });
  // A file of ours without a spec is a checkpoint or a whole model: say what to give instead.
  if (metadata.format === FILE_FORMAT && !metadata.spec) throw new Error(`--adapters ${missingSpecMessage(metadata, a.adapters)}`);
  // Ours always carry their spec; a file without one comes from elsewhere (the reference code, timm).
  return metadata.naming === REFERENCE_FORMAT || isReferenceNaming(tensors.keys()) || !metadata.spec;
}

/** Reads the trained model: ours (via train's loader) or a reference-named checkpoint. */
async function loadModel(a: ExportArgs): Promise<Loaded> {
  const backbonePath = a.backbone === 'random' ? undefined : a.backbone;
  if (!(await isReferenceFile(a))) {
    const m = await loadTrainedModel(a.adapters, backbonePath, a.batch);
    const crop = m.spec.inputCrop ?? m.spec.vit.imageSize;
    if (a.inputCrop !== undefined && Math.min(a.inputCrop, m.spec.vit.imageSize) !== crop) throw new UsageError(`export: --input-crop ${a.inputCrop}: ${display(a.adapters)} carries its model spec, with input crop ${m.spec.inputCrop ?? 'none'}; leave --input-crop out`);
    const ignored = (['preset', 'bits', 'adapterScale'] as const).filter((k) => a[k] !== undefined).map((k) => `--${k === 'adapterScale' ? 'adapter-scale' : k}`);
    return { ...m, notes: ignored.length ? [`${ignored.join(', ')} ignored: ${display(a.adapters)} carries its model spec`] : [], backboneInFile: false };
  }
  const backbone = backbonePath ? (await readSafetensors(backbonePath)).tensors : undefined;
  const r = await readReferenceCheckpoint(a.adapters, {
    batch: a.batch,
    backbone,
    vit: a.preset ? VIT_PRESETS[a.preset as VitPreset] : undefined,
    bits: a.bits as 32 | 1 | undefined,
    scale: a.adapterScale,
    inputCrop: a.inputCrop,
  });
  return { ...r, backboneInFile: r.fromBackbone.length === 0 };
}

/** --merge none: the model without merging (its refinement adapter dropped). */
function applyMergeOption(a: ExportArgs, m: Loaded): Loaded {
  if (a.merge === 'keep' || !m.spec.merge) {
    if (a.merge === 'none') m.notes.push('--merge none: the model has no token merging already');
    return m;
  }
  const r = withoutMerging(m.spec, m.weights);
  const what = m.spec.merge.kind === 'fpet' ? `FPET at block ${m.spec.merge.blocks.join(',')}` : `ToMe r=${m.spec.merge.r}`;
  m.notes.push(`--merge none: ${what} removed${r.dropped.length ? ` with its ${r.dropped.length} tensors (${r.dropped.slice(0, 4).join(', ')}${r.dropped.length > 4 ? ', …' : ''})` : ''}; every token goes through every block`);
  return { ...m, spec: r.spec, weights: r.weights };
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

/**
 * Refuses --verify at a batch whose float64 reference check would take more than
 * VERIFY_MEMORY_BYTES (the interpreter keeps every value of the graph), with the largest batch that fits.
 */
function checkVerifyMemory(spec: ModelSpec): void {
  const bytesAt = (batch: number) => 8 * buildModel({ ...spec, batch }).graph.nodes.reduce((s, n) => s + n.type.shape.reduce((x, y) => x * y, 1), 0);
  const need = bytesAt(spec.batch);
  if (need <= VERIFY_MEMORY_BYTES) return;
  const perImage = bytesAt(1);
  const fits = Math.max(0, Math.floor(VERIFY_MEMORY_BYTES / perImage));
  const gib = (b: number) => (b / 2 ** 30).toFixed(1);
  throw new UsageError(`export: --verify at --batch ${spec.batch} needs about ${gib(need)} GiB for the float64 reference check (the limit is ${gib(VERIFY_MEMORY_BYTES)} GiB): use --batch ${fits >= 1 ? `${count(fits)} or less` : '1'} for a verified export, or --verify=false`);
}

/** --format adapters: our adapters file, and the backbone beside it when it came with the input. */
async function exportAdapters(a: ExportArgs, m: Loaded, out: string): Promise<number> {
  const { spec, weights } = m;
  const built = buildModel(spec);
  const names = spec.pet.method === 'full' ? [...built.paramShapes.keys()] : built.trainable;
  const withBackbone = m.backboneInFile && spec.pet.method !== 'full';
  const backbone = withBackbone ? join(dirname(out), 'backbone.safetensors') : a.backbone;
  if (withBackbone) checkOutputFile(backbone, '--out (its backbone.safetensors)', { replace: a.force });
  await saveWeights(out, new Map(names.map((n) => [n, weights.get(n)!])), built.paramShapes, { kind: 'adapters', spec: JSON.stringify({ ...spec, training: undefined }), seed: '0', source: a.adapters });
  if (withBackbone) {
    const shapes = vitParamShapes(spec.vit);
    for (const k of ['head.weight', 'head.bias']) shapes.delete(k);
    await saveWeights(backbone, new Map([...shapes.keys()].map((k) => [k, weights.get(k)!])), shapes, { kind: 'model', source: a.adapters });
    console.log(`wrote ${display(backbone)}: the backbone from ${display(a.adapters)} (timm names)`);
  }
  console.log(`wrote ${display(out)}: ${names.length} tensors in our names with the model spec`);
  console.log(`use it as train's output: npm start -- eval --adapters ${display(out)} --backbone ${display(backbone)}`);
  return 0;
}

/** --format timm: the reference's names and metadata (input crop included); --verify reads it back. */
async function exportTimm(a: ExportArgs, m: Loaded, out: string): Promise<number> {
  const { spec, weights } = m;
  const r = await writeReferenceCheckpoint(out, spec, weights, { source: a.adapters });
  console.log(`wrote ${display(out)}: ${r.tensors} tensors in timm + FPET reference names (load with safetensors.torch.load_file; see docs/interchange.md)`);
  for (const c of referenceCaveats(spec)) console.log(`  caveat: ${c}`);
  if (!a.verify) return 0;
  const back = await readReferenceCheckpoint(out, { batch: spec.batch });
  const bad = [...modelParamShapes(spec).keys()].filter((k) => {
    const v = weights.get(k)!, w = back.weights.get(k);
    return !w || w.length !== v.length || w.some((x, i) => !Object.is(x, v[i]));
  });
  if (bad.length || (back.spec.inputCrop ?? null) !== (spec.inputCrop ?? null)) {
    console.error(`verify: reading ${display(out)} back gives ${bad.length ? `${bad.length} different tensors: ${bad.slice(0, 5).join(', ')}` : `input crop ${back.spec.inputCrop ?? 'none'}, not ${spec.inputCrop ?? 'none'}`}`);
    return 1;
  }
  console.log(`verify: read back, ${back.weights.size} tensors bit-identical under our names, input crop ${spec.inputCrop ?? 'none'}`);
  return 0;
}

/** --format onnx: the inference graph with the weights as initializers; --verify runs it in ONNX Runtime. */
async function exportOnnxFile(a: ExportArgs, m: Loaded, out: string): Promise<number> {
  const { spec, weights } = m;
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
  console.log(`wrote ${display(out)}: ${(bytes.length / 2 ** 20).toFixed(2)} MiB, opset ${ONNX_OPSET}, ${proto.graph!.node!.length} nodes (${ops}), input images [${spec.batch}, ${spec.vit.inChannels}, ${spec.vit.imageSize}, ${spec.vit.imageSize}], output logits [${spec.batch}, ${spec.vit.numClasses}] (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  if (!a.verify) return 0;
  const images = verificationImages(spec);
  const r = await verifyAgainstReference(model.graph, bytes, ['logits'], { ...Object.fromEntries(weights), images });
  const d = r.outputs.logits!;
  const ok = d.rel <= 1e-4;
  console.log(`verify: ONNX Runtime (CPU) vs the float64 reference on ${spec.batch} random image(s): max |Δlogit| / max(1, |logit|) = ${d.rel.toExponential(2)} (${ok ? 'ok' : 'FAILED'}, tolerance 1e-4)`);
  return ok ? 0 : 1;
}

export default defineCommand({
  summary: 'Export a trained model as ONNX (ONNX Runtime, Triton, onnxruntime-web) or as a timm + FPET PyTorch checkpoint.',
  options: OPTIONS,
  async run(a) {
    const out = checkArgs(a);
    const m = applyMergeOption(a, await loadModel(a));
    if (a.format === 'onnx' && a.verify) checkVerifyMemory(m.spec);
    console.log(`model: ${describeSpec(m.spec)} (${display(a.adapters)}${a.backbone === 'random' ? '' : ` on ${display(a.backbone)}`})`);
    for (const n of m.notes) console.log(`  note: ${n}`);
    makeDir(dirname(out), '--out');
    if (a.format === 'adapters') return exportAdapters(a, m, out);
    if (a.format === 'timm') return exportTimm(a, m, out);
    return exportOnnxFile(a, m, out);
  },
});
