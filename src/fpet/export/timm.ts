// Checkpoint interchange with the PyTorch reference: timm's ViT (0.4.12, the version FPET pins)
// for the backbone and the official FPET code (github.com/kyk120/fpet, whose adapters come from
// JieShibo/PETL-ViT `binary_adapter/`) for the adapters and FPET's key-refinement adapter.
//
// Our backbone already uses timm's parameter names and layouts, and every adapter projection is a
// PyTorch Linear weight [out, in] in both code bases, so the interchange is a renaming of the
// adapter modules only (docs/interchange.md has the table and what was checked):
//
//   ours                                       reference (module attribute in the PyTorch code)
//   blocks.{i}.adapter_mlp.{down,up}.*         blocks.{i}.adapter_mlp.adapter_{down,up}.*   AdaptFormer: Block.adapter_mlp = Adapter(...)
//   blocks.{i}.attn.adapter_q.{down,up}.*      blocks.{i}.attn.lora_q.adapter_{down,up}.*   LoRA: Attention.lora_q = Adapter(...)
//   blocks.{i}.attn.adapter_v.{down,up}.*      blocks.{i}.attn.lora_v.adapter_{down,up}.*   LoRA: Attention.lora_v
//   blocks.{L}.merge.adapter_refine.{down,up}.* blocks.{L}.refinement.adapter_{down,up}.*   FPET: Block.refinement = Adapter(dim=32, bit=1, in_dim=64)
//
// The rules are patterns over the module path and keep the tensor's own name (weight, bias, or
// any other), so optional tensors such as adapter biases map without being listed. 1-bit
// adapters are stored as their latent float weights in both code bases (the reference's QLinear
// keeps `weight` and quantises in forward), so they map unchanged too. The adapter scale s, the
// precision (bit) and the merge settings are not tensors in the reference (Python attributes and
// its config yaml): we carry them in the file's metadata.

import { readSafetensors, validateTensors, writeSafetensors, type TensorEntry } from '../../core/io/safetensors.ts';
import { DEFAULT_MERGE, DEFAULT_PET, modelParamShapes, validateSpec, type MergeSpec, type ModelSpec, type PetMethod } from '../models/model.ts';
import { modelSpecSchema, parseMetadataJson } from '../../core/io/schema.ts';
import { display, quote } from '../../core/util/text.ts';
import { VIT_PRESETS, type VitConfig } from '../models/vit.ts';

export { NAME_RULES, referenceName, ourName, isReferenceNaming, referenceNameRules, toReferenceNames, fromReferenceNames, nameTableMarkdown, type NameRule } from '../models/reference-names.ts';
import { fromReferenceNames, isReferenceNaming, ourName, referenceName, toReferenceNames } from '../models/reference-names.ts';

export const REFERENCE_FORMAT = 'timm-0.4.12+fpet';

/** The reference's config fields for a spec (its configs/<method>/<dataset>-bit<b>-dim<d>.yaml + main.py args). */
export function referenceConfig(spec: ModelSpec): Record<string, string> {
  const cfg: Record<string, string> = {
    method: spec.pet.method,
    dim: String(spec.pet.dim),
    bit: String(spec.pet.bits),
    scale: String(spec.pet.scale),
    num_class: String(spec.vit.numClasses),
  };
  if (spec.merge?.kind === 'fpet') {
    cfg.r_layer = spec.merge.blocks.join(',');
    cfg.merge_ratio = String(spec.merge.ratio);
    cfg.dim_key = String(spec.vit.dim / spec.vit.heads);
  }
  // The input transform is part of the model: written always, "none" when the model sees whole images.
  cfg.image_size = String(spec.vit.imageSize);
  cfg.input_crop = spec.inputCrop !== undefined && spec.inputCrop < spec.vit.imageSize ? String(spec.inputCrop) : 'none';
  // The input normalisation is part of the model too (a transforms.Normalize in PyTorch): "none" when it has none.
  cfg.mean = spec.normalize ? spec.normalize.mean.join(',') : 'none';
  cfg.std = spec.normalize ? spec.normalize.std.join(',') : 'none';
  return cfg;
}

/** The metadata keys that may record the input crop: ours, and the short one a PyTorch-side writer may use. */
export const INPUT_CROP_KEYS = ['reference.input_crop', 'input_crop'] as const;

/**
 * The input crop a file's metadata records: a number, null for "none" (whole images), undefined
 * when it records nothing. A value that is neither is an error naming the key and the range.
 */
export function recordedInputCrop(metadata: Readonly<Record<string, string>>, imageSize: number, path: string): number | null | undefined {
  for (const key of INPUT_CROP_KEYS) {
    if (!Object.hasOwn(metadata, key)) continue;
    const v = metadata[key]!.trim();
    if (v === 'none') return null;
    if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > imageSize) throw new Error(`${display(path)}: metadata ${quote(key)} must be "none" or an integer in [1, ${imageSize}] (the image size; got ${quote(v, 40)})`);
    return Number(v) === imageSize ? null : Number(v);
  }
  return undefined;
}

/** Why the reference code cannot run this model as it is (empty when it can). */
export function referenceCaveats(spec: ModelSpec): string[] {
  const out: string[] = [];
  if (spec.pet.method === 'full' || spec.pet.method === 'linear') out.push(`the reference trains AdaptFormer or LoRA adapters; a ${spec.pet.method === 'full' ? 'fully fine-tuned' : 'linear-probe'} model loads as a plain timm ViT`);
  if (spec.merge?.kind === 'tome') out.push('ToMe is not part of the FPET code (facebookresearch/ToMe patches timm instead); the weights are a plain timm ViT plus adapters');
  if (spec.merge?.kind === 'fpet') {
    if (spec.merge.blocks.length > 1) out.push(`the reference merges at one block (r_layer); this model merges at blocks ${spec.merge.blocks.join(', ')}`);
    if (spec.merge.ratio !== 0.5) out.push(`the reference merges all of set A (ratio 0.5); this model uses ratio ${spec.merge.ratio}`);
    if (spec.merge.refineBits !== 1 || spec.merge.refineDim !== 32) out.push(`the reference's refinement adapter is 1-bit with 32 hidden units; this one is ${spec.merge.refineBits}-bit with ${spec.merge.refineDim}`);
  }
  if (spec.inputCrop !== undefined && spec.inputCrop < spec.vit.imageSize) {
    const c = spec.inputCrop, n = spec.vit.imageSize, from = Math.floor((n - c) / 2), to = from + c;
    out.push(`the model sees the central ${c}×${c} pixels scaled to ${n}×${n}: feed the timm model F.interpolate(x[..., ${from}:${to}, ${from}:${to}], size=(${n}, ${n}), mode="bilinear", align_corners=False)`);
  }
  if (spec.normalize) out.push(`the model normalises its input itself (images in [0, 1]); in PyTorch feed transforms.Normalize(mean=[${spec.normalize.mean.join(', ')}], std=[${spec.normalize.std.join(', ')}]) of the [0, 1] image`);
  if (spec.vit.dim !== 768 && (spec.pet.method === 'adaptformer' || spec.pet.method === 'lora')) out.push(`the reference's set_adapter builds Adapter(dim, bit) with in_dim 768 (ViT-B); for width ${spec.vit.dim} pass in_dim=${spec.vit.dim}`);
  if (spec.merge?.kind === 'fpet' && spec.vit.dim / spec.vit.heads !== 64) out.push(`apply_patch's dim_key defaults to 64; pass dim_key=${spec.vit.dim / spec.vit.heads}`);
  return out;
}

/**
 * Writes backbone + adapters + head in the reference's names as safetensors (F32), loadable with
 * `safetensors.torch.load_file` and `model.load_state_dict(...)`. Metadata: "format": "pt" (the
 * Hugging Face convention), our model spec ("spec") and the reference's config fields.
 */
export async function writeReferenceCheckpoint(path: string, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, extra: Record<string, string> = {}): Promise<{ tensors: number; names: string[] }> {
  const shapes = modelParamShapes(spec);
  const missing = [...shapes.keys()].filter((k) => !weights.has(k));
  if (missing.length) throw new Error(`timm export: no value for ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
  const tensors = new Map<string, TensorEntry>();
  for (const [name, shape] of shapes) {
    const data = weights.get(name)!;
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`timm export: "${name}" has ${data.length} values, its shape [${shape}] needs ${n}`);
    tensors.set(referenceName(name), { dtype: 'F32', shape, data });
  }
  const metadata = {
    format: 'pt',
    naming: REFERENCE_FORMAT,
    producer: 'fpet-webgpu',
    spec: JSON.stringify({ ...spec, training: undefined }),
    ...Object.fromEntries(Object.entries(referenceConfig(spec)).map(([k, v]) => [`reference.${k}`, v])),
    ...extra,
  };
  await writeSafetensors(path, tensors, metadata);
  return { tensors: tensors.size, names: [...tensors.keys()] };
}

export interface ImportOptions {
  /** Batch of the model spec returned. */
  readonly batch: number;
  /** Backbone tensors (timm names) for files that hold only adapters and head (the reference's .pth). */
  readonly backbone?: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>;
  /** Backbone geometry when the file carries no spec (default: the preset whose shapes match). */
  readonly vit?: VitConfig;
  /** Adapter precision and scale when the file carries no spec (the reference's config: bit, scale). */
  readonly bits?: 32 | 1;
  readonly scale?: number;
  /**
   * The central crop the model sees, when the file does not record it (metadata `reference.input_crop`);
   * the image size means none. A file that records another crop is refused.
   */
  readonly inputCrop?: number;
}

export interface ImportedCheckpoint {
  readonly spec: ModelSpec;
  readonly weights: Map<string, Float32Array>;
  /** Which names were renamed, and what was inferred rather than read. */
  readonly notes: string[];
  /** Tensors taken from `ImportOptions.backbone` (absent from the checkpoint). */
  readonly fromBackbone: string[];
}

const shapeOf = (m: ReadonlyMap<string, { shape: readonly number[] }>, n: string) => m.get(n)?.shape;

/** The preset whose parameter shapes match (heads cannot be read from weights). */
function matchPreset(shapes: ReadonlyMap<string, { shape: readonly number[] }>): VitConfig | undefined {
  const pe = shapeOf(shapes, 'patch_embed.proj.weight'), pos = shapeOf(shapes, 'pos_embed'), fc1 = shapeOf(shapes, 'blocks.0.mlp.fc1.weight');
  if (!pe || !pos) return undefined;
  const depth = new Set([...shapes.keys()].map((k) => /^blocks\.(\d+)\.norm1\.weight$/.exec(k)?.[1]).filter(Boolean)).size;
  return Object.values(VIT_PRESETS).find((v) =>
    v.dim === pe[0] && v.inChannels === pe[1] && v.patchSize === pe[2] && v.depth === depth &&
    pos[1] === (v.imageSize / v.patchSize) ** 2 + 1 && (!fc1 || fc1[0] === Math.round(v.dim * v.mlpRatio)));
}

/** A model spec from reference-named tensors (method, dims and FPET block from the names and shapes). */
export function inferSpec(shapes: ReadonlyMap<string, { shape: readonly number[] }>, o: ImportOptions & { vit: VitConfig }, notes: string[]): ModelSpec {
  const names = [...shapes.keys()];
  const has = (re: RegExp) => names.find((n) => re.test(n));
  const af = has(/^blocks\.\d+\.adapter_mlp\.down\.weight$/), lora = has(/^blocks\.\d+\.attn\.adapter_q\.down\.weight$/);
  const method: PetMethod = af ? 'adaptformer' : lora ? 'lora' : 'linear';
  const dim = af || lora ? shapes.get((af ?? lora)!)!.shape[0]! : 0;
  if ((af || lora) && o.bits === undefined) {
    throw new Error('the checkpoint does not record the adapter precision: give it (--bits 32|1, the reference config\'s `bit`) and the scale (--adapter-scale, its `scale`)');
  }
  const bits = o.bits ?? 32;
  if ((af || lora) && o.scale === undefined) notes.push('adapter scale not recorded: assumed 1 (the reference\'s value for 32-bit adapters)');
  const refineBlocks = names.map((n) => /^blocks\.(\d+)\.merge\.adapter_refine\.down\.weight$/.exec(n)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
  let merge: MergeSpec | undefined;
  if (refineBlocks.length) {
    const rd = shapes.get(`blocks.${refineBlocks[0]}.merge.adapter_refine.down.weight`)!.shape;
    merge = { ...DEFAULT_MERGE, kind: 'fpet', blocks: refineBlocks, ratio: 0.5, refineDim: rd[0]!, refineBits: 1 };
    notes.push(`FPET at block ${refineBlocks.join(', ')} with ratio 0.5 and a 1-bit refinement adapter (the reference's only setting)`);
  }
  const head = shapes.get('head.weight')?.shape;
  const pre = shapes.get('pre_logits.fc.weight')?.shape ?? o.backbone?.get('pre_logits.fc.weight')?.shape;
  const vit: VitConfig = { ...o.vit, numClasses: head ? head[0]! : o.vit.numClasses, representationSize: pre ? pre[0]! : 0 };
  const bias = !!(af || lora) && shapes.has((af ?? lora)!.replace(/weight$/, 'bias'));
  return { vit, batch: o.batch, pet: { ...DEFAULT_PET[method], bits, dim, scale: o.scale ?? 1, bias }, merge };
}

/** The model spec a file carries (validated against the bounded schema), at `batch`; undefined without one. */
function savedSpec(metadata: Readonly<Record<string, string>>, path: string, batch: number): ModelSpec | undefined {
  if (!metadata.spec) return undefined;
  const { training: _training, ...saved } = parseMetadataJson(metadata, 'spec', modelSpecSchema, path) as ModelSpec;
  return { ...saved, batch };
}

/** The spec of a file without ours: geometry from the preset, precision and scale from options or metadata, the rest from the names and shapes. */
function inferredSpec(path: string, metadata: Readonly<Record<string, string>>, renamed: ReadonlyMap<string, { shape: readonly number[] }>, opts: ImportOptions, notes: string[]): ModelSpec {
  const vit = opts.vit ?? matchPreset(renamed) ?? (opts.backbone ? matchPreset(opts.backbone) : undefined);
  if (!vit) throw new Error(`${display(path)}: no model spec in the metadata and no preset matches the shapes of its backbone: give the backbone geometry (--preset)`);
  // Precision and scale: the options, else what a PyTorch-side writer put in the metadata.
  const key = (k: string) => (Object.hasOwn(metadata, k) ? k : Object.hasOwn(metadata, `reference.${k}`) ? `reference.${k}` : undefined);
  const bitKey = key('bit'), scaleKey = key('scale');
  if (opts.bits === undefined && bitKey && metadata[bitKey] !== '32' && metadata[bitKey] !== '1') throw new Error(`${display(path)}: metadata ${quote(bitKey)} must be "32" or "1" (got ${quote(metadata[bitKey]!, 40)})`);
  const bits = opts.bits ?? (bitKey ? (Number(metadata[bitKey]) as 32 | 1) : undefined);
  const scale = opts.scale ?? (scaleKey ? Number(metadata[scaleKey]) : undefined);
  if (scale !== undefined && !(Number.isFinite(scale) && Math.abs(scale) <= 1000)) throw new Error(`${display(path)}: metadata ${quote(scaleKey!)} must be a number in [-1000, 1000] (got ${quote(metadata[scaleKey!]!, 40)})`);
  return inferSpec(renamed, { ...opts, vit, bits, scale }, notes);
}

/**
 * The input crop of an imported model: the file's spec or metadata, else `--input-crop`; the two
 * must agree. A file that records nothing is imported without a crop, and a note says so.
 */
function importedCrop(spec: ModelSpec, metadata: Readonly<Record<string, string>>, opts: ImportOptions, path: string, notes: string[]): ModelSpec {
  const n = spec.vit.imageSize;
  const recorded = recordedInputCrop(metadata, n, path);
  const fromSpec = metadata.spec ? (spec.inputCrop !== undefined && spec.inputCrop < n ? spec.inputCrop : null) : undefined;
  const given = opts.inputCrop === undefined ? undefined : opts.inputCrop >= n ? null : opts.inputCrop;
  const say = (c: number | null) => (c === null ? 'none' : String(c));
  if (fromSpec !== undefined && recorded !== undefined && fromSpec !== recorded) throw new Error(`${display(path)}: the metadata disagree about the input crop: "spec" says ${say(fromSpec)}, ${quote(INPUT_CROP_KEYS.find((k) => Object.hasOwn(metadata, k))!)} says ${say(recorded)}; fix one of them`);
  const known = fromSpec ?? recorded;
  if (given !== undefined && known !== undefined && given !== known) throw new Error(`${display(path)}: the file records input crop ${say(known)}, not --input-crop ${opts.inputCrop}; leave --input-crop out`);
  const crop = known ?? given;
  if (crop === undefined) notes.push(`the file records no input crop (metadata "reference.input_crop"): imported without one, the model sees whole ${n}×${n} images; a model trained with --input-crop N needs --input-crop N here`);
  const { inputCrop: _c, ...rest } = spec;
  return crop === null || crop === undefined ? rest : { ...rest, inputCrop: crop };
}

/**
 * Reads a reference-named (or our-named) safetensors checkpoint and returns our spec and weights.
 * The spec comes from the file's metadata when it was written here (checked against the bounded
 * schema), else it is inferred from the names and shapes (options give what the weights cannot
 * tell). The input crop comes from the metadata or `opts.inputCrop`; without either the import
 * notes that the model sees whole images. Backbone tensors missing from the file come from
 * `opts.backbone`. Every mismatch is reported by name.
 */
export async function readReferenceCheckpoint(path: string, opts: ImportOptions): Promise<ImportedCheckpoint> {
  const { tensors, metadata } = await readSafetensors(path);
  const notes: string[] = [];
  const reference = isReferenceNaming(tensors.keys());
  const renamed = fromReferenceNames(tensors);
  if (reference) notes.push(`adapter names mapped from the reference (${[...tensors.keys()].filter((k) => ourName(k) !== k).length} tensors)`);
  const found = savedSpec(metadata, path, opts.batch) ?? inferredSpec(path, metadata, renamed, opts, notes);
  const spec = importedCrop(found, metadata, opts, path, notes);
  try {
    validateSpec(spec);
  } catch (e) {
    throw new Error(`${display(path)}: ${(e as Error).message}`);
  }
  const shapes = modelParamShapes(spec);
  const fromBackbone: string[] = [];
  const merged = new Map<string, { dtype: string; shape: readonly number[] }>();
  for (const [k, t] of renamed) merged.set(k, t);
  for (const [k, shape] of shapes) {
    if (merged.has(k) || k.startsWith('head.')) continue; // the task's head must come from the checkpoint
    const b = opts.backbone?.get(k);
    if (b) {
      merged.set(k, { dtype: 'F32', shape: b.shape });
      fromBackbone.push(k);
    }
  }
  validateTensors(merged, new Map([...shapes].map(([k, v]) => [k, { shape: v, dtype: 'float' as const }])), { source: path });
  if (fromBackbone.length) notes.push(`${fromBackbone.length} backbone tensors taken from the backbone file (the checkpoint holds adapters and head only)`);
  const weights = new Map<string, Float32Array>();
  for (const k of shapes.keys()) {
    const own = renamed.get(k)?.data;
    weights.set(k, own instanceof Float32Array ? own : Float32Array.from(own ?? opts.backbone!.get(k)!.data));
  }
  return { spec, weights, notes, fromBackbone };
}

/**
 * The same model without token merging: the spec's merge removed and the merge's own tensors
 * (FPET's key-refinement adapter) dropped; every other weight is kept as it is. For a model
 * trained with FPET or ToMe this gives the plain ViT + adapters that the reference's timm model runs.
 */
export function withoutMerging(spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>): { spec: ModelSpec; weights: Map<string, Float32Array>; dropped: string[] } {
  const { merge: _merge, ...rest } = spec;
  const shapes = modelParamShapes(rest);
  const kept = new Map([...weights].filter(([k]) => shapes.has(k)));
  return { spec: rest, weights: kept, dropped: [...weights.keys()].filter((k) => !shapes.has(k)) };
}
