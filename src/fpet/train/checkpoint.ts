// Model files on top of safetensors: full models (backbone + modules), adapter-only files
// (trainable parameters: a few KB for PET), and training checkpoints (trainable parameters,
// AdamW state, and the run's state in the metadata). Every write is atomic (temp file + rename).
// Reading checks the header (names, shapes, dtypes; the run state or model spec against bounded
// schemas) before any tensor data is read.

import { existsSync } from 'node:fs';
import { readSmallFile } from '../../core/util/files.ts';
import { readSafetensors, readSafetensorsHeader, validateTensors, writeSafetensors, type TensorEntry } from '../../core/io/safetensors.ts';
import { applyNameMap, type NameRule } from '../../core/io/name-map.ts';
import { modelSpecSchema, parseMetadataJson, runStateSchema } from '../../core/io/schema.ts';
import { display } from '../../core/util/text.ts';
import type { ModelSpec } from '../models/model.ts';
import { VIT_PRESETS, vitParamShapes, type VitConfig } from '../models/vit.ts';
import type { Weights } from './inference.ts';
import type { EpochRecord } from './loop.ts';
import { FILE_FORMAT, missingSpecMessage } from './model-files.ts';

export { ABSURD_WEIGHT, checkWeights } from './model-files.ts';
export const FORMAT = FILE_FORMAT;

export type { Weights } from './inference.ts';

const entries = (w: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>) =>
  new Map<string, TensorEntry>([...w].map(([name, data]) => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`checkpoint: no shape known for tensor "${name}"`);
    return [name, { dtype: 'F32', shape, data }];
  }));

/** Writes `weights` (shapes from `shapes`) with string metadata; atomic. */
export async function saveWeights(path: string, weights: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>, metadata: Record<string, string>): Promise<void> {
  await writeSafetensors(path, entries(weights, shapes), { format: FORMAT, ...metadata });
}

/** Weights read from a model or checkpoint file, with the file's string metadata. */
export interface LoadedWeights {
  readonly weights: Weights;
  readonly metadata: Record<string, string>;
}

/** Options of loadWeights. */
export interface LoadOptions {
  /** Expected tensors the file may lack (e.g. freshly initialised adapters). */
  readonly allowMissing?: (name: string) => boolean;
  /** Tolerate tensors nothing expects (default false: an error). */
  readonly allowExtra?: boolean;
  /** Tensors taken when present, which may be absent or of any shape. */
  readonly optional?: readonly string[];
  /** Rules renaming the file's tensors before they are matched (src/core/io/name-map.ts). */
  readonly nameMap?: readonly NameRule[];
  /** Read and check the header only (metadata; `weights` stays empty). */
  readonly headerOnly?: boolean;
}

/**
 * Reads a safetensors file and checks it against `expected` shapes: every problem (missing,
 * unexpected, wrong shape or dtype) is reported by tensor name in one error, the file's unmatched
 * names and the model's unfilled ones side by side. The header is checked before any data is read.
 */
export async function loadWeights(path: string, expected: ReadonlyMap<string, readonly number[]>, opts: LoadOptions = {}): Promise<LoadedWeights> {
  if (!existsSync(path)) throw new Error(`no such model file: ${display(path)}`);
  const header = await readSafetensorsHeader(path);
  const mapped = opts.nameMap?.length ? applyNameMap(header.tensors, opts.nameMap) : undefined;
  const found = mapped ? mapped.renamed : header.tensors;
  const want = new Map([...expected].map(([k, v]) => [k, { shape: v, dtype: 'float' as const }]));
  for (const k of opts.optional ?? []) if (found.has(k)) want.set(k, { shape: found.get(k)!.shape, dtype: 'float' });
  try {
    validateTensors(found, want, { allowMissing: opts.allowMissing, allowExtra: opts.allowExtra, source: path });
  } catch (e) {
    const how = mapped
      ? `(names after the name map: ${mapped.changes.size} renamed, ${mapped.dropped.length} dropped)`
      : '(tensors are matched by name; a file with another naming loads with a name map: --name-map FILE, see src/core/io/name-map.ts)';
    throw new Error(`${(e as Error).message}\n${how}`);
  }
  const weights: Weights = new Map();
  if (opts.headerOnly) return { weights, metadata: header.metadata };
  const { tensors } = await readSafetensors(path);
  const renamed = mapped ? applyNameMap(tensors, opts.nameMap!).renamed : tensors;
  for (const [name, t] of renamed) {
    if (!want.has(name)) continue;
    weights.set(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>));
  }
  return { weights, metadata: header.metadata };
}

/**
 * A pre-trained backbone in timm names (e.g. a converted ViT-B/16, or the shipped Fashion-MNIST
 * one). A classification head of any class count is accepted and dropped (a new task re-creates
 * it); any other extra tensor is an error.
 */
export async function loadBackbone(path: string, vit: VitConfig, nameMap?: readonly NameRule[], headerOnly = false): Promise<LoadedWeights> {
  const shapes = vitParamShapes(vit);
  for (const k of ['head.weight', 'head.bias']) shapes.delete(k);
  return loadWeights(path, shapes, { optional: ['head.weight', 'head.bias'], nameMap, headerOnly });
}

/**
 * A backbone file checked against a geometry from its header alone, before any GPU work or any
 * tensor is read: returns the geometry with the file's representation size (timm 0.4.12's in21k
 * checkpoints have a `pre_logits.fc` layer, newer timm checkpoints none, whatever the preset says).
 * Every tensor whose name or shape does not fit is named; when the shapes are another preset's,
 * the message says which.
 */
export async function inspectBackbone(path: string, vit: VitConfig, nameMap?: readonly NameRule[]): Promise<VitConfig> {
  if (!existsSync(path)) throw new Error(`no such backbone file: ${display(path)} (--backbone FILE: a timm ViT state dict saved as safetensors, or random)`);
  const header = await readSafetensorsHeader(path);
  const tensors = nameMap?.length ? applyNameMap(header.tensors, nameMap).renamed : header.tensors;
  const pre = tensors.get('pre_logits.fc.weight')?.shape;
  const fitted: VitConfig = { ...vit, representationSize: pre?.length === 2 ? pre[0]! : 0 };
  try {
    await loadBackbone(path, fitted, nameMap, true);
  } catch (e) {
    const hint = presetOfShapes(tensors);
    throw new Error(`${(e as Error).message}${hint ? `\n(the file's shapes are those of --preset ${hint})` : ''}`);
  }
  return fitted;
}

/** The preset whose patch embedding, position embedding and depth the tensors have, if any. */
function presetOfShapes(tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>): string | undefined {
  const same = (a: readonly number[] | undefined, b: readonly number[] | undefined) => a !== undefined && b !== undefined && a.join() === b.join();
  const depth = new Set([...tensors.keys()].map((k) => /^blocks\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  for (const [name, c] of Object.entries(VIT_PRESETS)) {
    const want = vitParamShapes(c);
    if (c.depth === depth && same(tensors.get('patch_embed.proj.weight')?.shape, want.get('patch_embed.proj.weight')) && same(tensors.get('pos_embed')?.shape, want.get('pos_embed'))) return name;
  }
  return undefined;
}

/** The metadata of a training checkpoint. */
export interface RunState {
  readonly spec: ModelSpec;
  /** Epochs completed. */
  readonly epoch: number;
  /** Optimizer steps taken. */
  readonly step: number;
  readonly seed: number;
  readonly options: Record<string, unknown>;
  readonly history: readonly EpochRecord[];
}

export const runStateMetadata = (s: RunState): Record<string, string> => ({ kind: 'checkpoint', state: JSON.stringify(s), step: String(s.step) });

/** The run state of a checkpoint, validated against bounded schemas (src/core/io/schema.ts). */
export function parseRunState(metadata: Record<string, string>, path: string): RunState {
  if (metadata.format !== FORMAT || metadata.kind !== 'checkpoint' || !metadata.state) {
    throw new Error(`${display(path)} is not a training checkpoint of this tool (format ${display(metadata.format ?? 'none', 40)}, kind ${display(metadata.kind ?? 'none', 40)})`);
  }
  return parseMetadataJson(metadata, 'state', runStateSchema, path) as RunState;
}

/** The model spec an adapters (or model) file carries, validated against bounded schemas. */
export function parseSpec(metadata: Record<string, string>, path: string): ModelSpec {
  if (!metadata.spec) throw new Error(missingSpecMessage(metadata, path));
  return parseMetadataJson(metadata, 'spec', modelSpecSchema, path) as ModelSpec;
}

/**
 * run.json of a run folder (written last), or undefined when absent or unreadable. It is read only
 * when it is a small regular file (opened without blocking: a FIFO in its place cannot hang a run).
 */
export function readRunManifest(path: string): { step: number; epoch: number } | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readSmallFile(path, 10_000, 'run.json').toString('utf8')) as { step?: unknown; epoch?: unknown };
    return Number.isInteger(m.step) && Number.isInteger(m.epoch) ? { step: m.step as number, epoch: m.epoch as number } : undefined;
  } catch {
    return undefined;
  }
}
