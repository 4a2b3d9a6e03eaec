// Model files as bytes, in the formats the command line writes and reads: backbones (safetensors
// in timm names) and adapters files (the trainable tensors, F32, with the model spec, seed,
// backbone and step in the metadata). Reference-named files (timm + the official FPET code) load
// too. Universal — bytes in, bytes out, no file system — so the web page uses the very same code;
// src/fpet/train/checkpoint.ts and trained-model.ts add reading and writing files.

import { applyNameMap } from '../../core/io/name-map.ts';
import { decodeSafetensors, decodeSafetensorsHeader, encodeSafetensors, validateTensors, type TensorEntry } from '../../core/io/safetensors.ts';
import { array, int, MODEL_SPEC_LIMITS, modelSpecSchema, num, object, oneOf, parseMetadataJson, str } from '../../core/io/schema.ts';
import { TRANSFORM_LIMITS, type Interpolation } from '../data/transforms.ts';
import { display } from '../../core/util/text.ts';
import { buildModel, initialWeights, modelParamShapes, type ModelSpec } from '../models/model.ts';
import { isReferenceNaming, referenceNameRules } from '../models/reference-names.ts';
import { vitParamShapes, type VitConfig } from '../models/vit.ts';
import type { Weights } from './inference.ts';

/** The `format` every file this tool writes carries in its metadata. */
export const FILE_FORMAT = 'fpet-webgpu/1';
/** Largest magnitude a trained ViT weight plausibly has; beyond it the file is corrupt or not a model. */
export const ABSURD_WEIGHT = 1e4;
/** What the CLI writes as `backbone` when it trained on the shipped backbone (its default path). */
export const SHIPPED_BACKBONE = 'models/vit-mnist-fashion.safetensors';

export type { Weights } from './inference.ts';

/** Refuses non-finite or absurdly large values, naming the tensor, the index and the value. */
export function checkWeights(weights: ReadonlyMap<string, ArrayLike<number>>, source: string): void {
  for (const [name, v] of weights) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!Number.isFinite(x) || Math.abs(x) > ABSURD_WEIGHT) {
        throw new Error(`${display(source)}: tensor ${display(name)} has ${Number.isFinite(x) ? `an absurd value ${x} (|w| > ${ABSURD_WEIGHT})` : `a non-finite value ${x}`} at index ${i}; the file is corrupt or not a model (--check-weights false skips this check)`);
      }
    }
  }
}

/** The metadata of an adapters file (what `train` writes and `decodeAdapters` reads). */
export function adaptersMetadata(spec: ModelSpec, meta: AdapterMeta): Record<string, string> {
  return {
    format: FILE_FORMAT, kind: 'adapters', spec: JSON.stringify({ ...spec, training: undefined }), seed: String(meta.seed), backbone: meta.backbone, step: String(meta.step),
    ...(meta.classes ? { classes: JSON.stringify(meta.classes) } : {}),
    ...(meta.preprocess ? { preprocess: JSON.stringify(meta.preprocess) } : {}),
    ...(meta.split ? { split: JSON.stringify(meta.split) } : {}),
  };
}

/** Bounds of the class names an adapters file records. */
export const CLASS_NAME_LIMITS = { maxChars: 1024 } as const;

const classesSchema = array(str({ max: CLASS_NAME_LIMITS.maxChars, printable: false }), { max: MODEL_SPEC_LIMITS.maxClasses });
const preprocessSchema = object({ cropPct: num(TRANSFORM_LIMITS.cropPct[0], TRANSFORM_LIMITS.cropPct[1]), interpolation: oneOf(['bilinear', 'bicubic'] as const) });
const splitSchema = object({ valSplit: num(0, 1), splitSeed: int(-(2 ** 31), 2 ** 32 - 1) });

/** What an adapters file of an image-folder run records about its data: class names, eval transform, split. */
export interface RecordedData {
  readonly classes?: string[];
  readonly preprocess?: { readonly cropPct: number; readonly interpolation: Interpolation };
  /** The held-out fraction and seed of a folder without val/ (eval draws the same held-out images). */
  readonly split?: { readonly valSplit: number; readonly splitSeed: number };
}

/**
 * The class names and eval transform an adapters file records (files of image-folder runs), each
 * checked against a bounded schema; the names must be one per class of the model.
 */
export function recordedDataInfo(metadata: Readonly<Record<string, string>>, spec: ModelSpec, source: string): RecordedData {
  const classes = metadata.classes !== undefined ? parseMetadataJson(metadata, 'classes', classesSchema, source) : undefined;
  if (classes && classes.length !== spec.vit.numClasses) throw new Error(`${display(source)}: metadata "classes" names ${classes.length} classes, but the model has ${spec.vit.numClasses}`);
  const preprocess = metadata.preprocess !== undefined ? parseMetadataJson(metadata, 'preprocess', preprocessSchema, source) : undefined;
  const split = metadata.split !== undefined ? parseMetadataJson(metadata, 'split', splitSchema, source) : undefined;
  return { ...(classes ? { classes } : {}), ...(preprocess ? { preprocess } : {}), ...(split ? { split } : {}) };
}

/** A backbone file's weights for `vit` (a head of any class count is accepted and dropped, as loadBackbone does). */
export function decodeBackbone(bytes: Uint8Array, vit: VitConfig, source: string): Weights {
  const { tensors } = decodeSafetensors(bytes, source);
  const shapes = vitParamShapes(vit);
  for (const k of ['head.weight', 'head.bias']) shapes.delete(k);
  const want = new Map<string, readonly number[]>(shapes);
  for (const k of ['head.weight', 'head.bias']) if (tensors.has(k)) want.set(k, tensors.get(k)!.shape);
  validateTensors(tensors, want, { source });
  const out: Weights = new Map();
  for (const name of shapes.keys()) out.set(name, tensors.get(name)!.data as Float32Array);
  checkWeights(out, source);
  return out;
}

/**
 * Why a file without a model spec cannot be read as an adapters file: a training checkpoint (named
 * with the adapters file train writes beside it), a file of another tool, or a plain backbone.
 */
export function missingSpecMessage(metadata: Readonly<Record<string, string>>, source: string): string {
  if (metadata.format === FILE_FORMAT && metadata.kind === 'checkpoint') {
    const slash = Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\'));
    const sibling = `${slash >= 0 ? source.slice(0, slash + 1) : ''}adapters.safetensors`;
    return `${display(source)} is a training checkpoint (parameters and optimizer state for --resume), not an adapters file: give the adapters file train wrote beside it, ${display(sibling)}`;
  }
  if (metadata.format === FILE_FORMAT && metadata.kind === 'model') return `${display(source)} is a whole model or backbone without a model spec (kind "model"): give it as --backbone, and the adapters file train wrote as --adapters`;
  return `${display(source)} has no model spec in its metadata, so it is not an adapters file written by train (or downloaded from the web page); a timm / PyTorch checkpoint is converted with export --format adapters`;
}

/** What an adapters file records about its run besides the model spec. */
export interface AdapterMeta {
  readonly seed: number;
  readonly step: number;
  /** The backbone's path as the CLI names it. */
  readonly backbone: string;
  /** The class names, in label order (image-folder runs). */
  readonly classes?: readonly string[];
  /** The eval transform new images get (image-folder runs): resize the shorter side, centre crop. */
  readonly preprocess?: { readonly cropPct: number; readonly interpolation: Interpolation };
  /** The held-out split of a folder without val/ (image-folder runs). */
  readonly split?: { readonly valSplit: number; readonly splitSeed: number };
}

/** An adapters file: exactly what `train` writes as adapters.safetensors (see src/fpet/train/run.ts). */
export function encodeAdapters(spec: ModelSpec, trainable: ReadonlyMap<string, Float32Array>, meta: AdapterMeta): Uint8Array {
  const shapes = modelParamShapes(spec);
  const names = buildModel({ ...spec, training: undefined }).trainable;
  const entries = new Map<string, TensorEntry>();
  for (const name of names) {
    const data = trainable.get(name);
    if (!data) throw new Error(`adapters: no value for the trainable tensor ${name}`);
    entries.set(name, { dtype: 'F32', shape: shapes.get(name)!, data });
  }
  return encodeSafetensors(entries, adaptersMetadata(spec, meta));
}

/** The model an adapters file describes, ready for a Classifier: spec, every weight, and the run's record. */
export interface LoadedModel extends RecordedData {
  /** The file's spec at the page's batch, without training. */
  readonly spec: ModelSpec;
  /** Every parameter: backbone, re-created modules, and the file's trained tensors. */
  readonly weights: Weights;
  /** The trained tensors the file held. */
  readonly trained: Weights;
  readonly step?: number;
  readonly seed: number;
  readonly backbone: string;
  readonly referenceNaming: boolean;
}

/**
 * The model an adapters file describes (src/fpet/train/trained-model.ts loadTrainedModel, from bytes):
 * its spec (validated against the bounded schema), the backbone (`backbone`, or random weights
 * from the run's seed when the run used a random backbone), and the trained tensors checked by
 * name, shape and value.
 */
export function decodeAdapters(bytes: Uint8Array, backbone: Weights | undefined, batch: number, source: string): LoadedModel {
  const header = decodeSafetensorsHeader(bytes, source);
  const md = header.metadata;
  if (!md.spec) throw new Error(missingSpecMessage(md, source));
  const saved = parseMetadataJson(md, 'spec', modelSpecSchema, source) as ModelSpec;
  const spec: ModelSpec = { ...saved, batch, training: undefined };
  const seed = Number(md.seed ?? 0);
  if (!Number.isSafeInteger(seed)) throw new Error(`${source}: metadata.seed must be an integer (got ${JSON.stringify(md.seed).slice(0, 40)})`);
  const usesRandom = md.backbone === 'random';
  if (!usesRandom && !backbone) throw new Error(`${source} was trained on a backbone this page does not have`);
  const shapes = modelParamShapes(spec);
  let weights: Weights;
  try {
    weights = initialWeights(spec, seed, usesRandom ? undefined : new Map(backbone));
  } catch (e) {
    throw new Error(`${source}: its model (${spec.vit.imageSize}×${spec.vit.imageSize}×${spec.vit.inChannels}, width ${spec.vit.dim}, depth ${spec.vit.depth}) does not fit the page's backbone: ${(e as Error).message}`);
  }
  const trainable = buildModel(spec).trainable;
  const { tensors } = decodeSafetensors(bytes, source);
  const referenceNaming = isReferenceNaming(tensors.keys());
  const renamed = referenceNaming ? applyNameMap(tensors, referenceNameRules()).renamed : tensors;
  const wanted = spec.pet.method === 'full' ? shapes : new Map(trainable.map((n) => [n, shapes.get(n)!]));
  validateTensors(renamed, wanted, { source });
  const trained: Weights = new Map();
  for (const name of wanted.keys()) {
    const t = renamed.get(name)!;
    trained.set(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  }
  checkWeights(trained, source);
  for (const [k, v] of trained) weights.set(k, v);
  const step = md.step !== undefined && /^\d{1,12}$/.test(md.step) ? Number(md.step) : undefined;
  return { spec, weights, trained, step, seed, backbone: md.backbone ?? 'unknown', referenceNaming, ...recordedDataInfo(md, spec, source) };
}
