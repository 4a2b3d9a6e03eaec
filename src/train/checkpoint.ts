// Model files on top of safetensors: full models (backbone + modules), adapter-only files
// (trainable parameters: a few KB for PET), and training checkpoints (trainable parameters,
// AdamW state, and the run's state in the metadata). Every write is atomic (temp file + rename).

import { existsSync } from 'node:fs';
import { readSafetensors, validateTensors, writeSafetensors, type TensorEntry } from '../io/safetensors.ts';
import { applyNameMap, type NameRule } from '../io/name-map.ts';
import type { ModelSpec } from '../models/model.ts';
import { vitParamShapes, type VitConfig } from '../models/vit.ts';

export const FORMAT = 'fpet-webgpu/1';

export type Weights = Map<string, Float32Array>;

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

export interface LoadedWeights {
  readonly weights: Weights;
  readonly metadata: Record<string, string>;
}

export interface LoadOptions {
  readonly allowMissing?: (name: string) => boolean;
  readonly allowExtra?: boolean;
  /** Tensors taken when present, which may be absent or of any shape. */
  readonly optional?: readonly string[];
  /** Rules renaming the file's tensors before they are matched (src/io/name-map.ts). */
  readonly nameMap?: readonly NameRule[];
}

/**
 * Reads a safetensors file and checks it against `expected` shapes: every problem (missing,
 * unexpected, wrong shape or dtype) is reported by tensor name in one error, the file's unmatched
 * names and the model's unfilled ones side by side.
 */
export async function loadWeights(path: string, expected: ReadonlyMap<string, readonly number[]>, opts: LoadOptions = {}): Promise<LoadedWeights> {
  if (!existsSync(path)) throw new Error(`no such model file: ${path}`);
  const read = await readSafetensors(path);
  const metadata = read.metadata;
  const mapped = opts.nameMap?.length ? applyNameMap(read.tensors, opts.nameMap) : undefined;
  const tensors = mapped ? mapped.renamed : read.tensors;
  const want = new Map([...expected].map(([k, v]) => [k, { shape: v, dtype: 'float' as const }]));
  for (const k of opts.optional ?? []) if (tensors.has(k)) want.set(k, { shape: tensors.get(k)!.shape, dtype: 'float' });
  try {
    validateTensors(tensors, want, { allowMissing: opts.allowMissing, allowExtra: opts.allowExtra, source: path });
  } catch (e) {
    const how = mapped
      ? `(names after the name map: ${mapped.changes.size} renamed, ${mapped.dropped.length} dropped)`
      : '(tensors are matched by name; a file with another naming loads with a name map: --name-map FILE, see src/io/name-map.ts)';
    throw new Error(`${(e as Error).message}
${how}`);
  }
  const weights: Weights = new Map();
  for (const [name, t] of tensors) if (expected.has(name)) weights.set(name, t.data as Float32Array);
  return { weights, metadata };
}

/**
 * A pre-trained backbone in timm names (e.g. a converted ViT-B/16, or the shipped Fashion-MNIST
 * one). A classification head of any class count is accepted and dropped (a new task re-creates
 * it); any other extra tensor is an error.
 */
export async function loadBackbone(path: string, vit: VitConfig, nameMap?: readonly NameRule[]): Promise<LoadedWeights> {
  const shapes = vitParamShapes(vit);
  for (const k of ['head.weight', 'head.bias']) shapes.delete(k);
  return loadWeights(path, shapes, { optional: ['head.weight', 'head.bias'], nameMap });
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
  readonly history: unknown[];
}

export const runStateMetadata = (s: RunState): Record<string, string> => ({ kind: 'checkpoint', state: JSON.stringify(s) });

export function parseRunState(metadata: Record<string, string>, path: string): RunState {
  if (metadata.format !== FORMAT || metadata.kind !== 'checkpoint' || !metadata.state) {
    throw new Error(`${path} is not a training checkpoint of this tool (format "${metadata.format ?? 'none'}", kind "${metadata.kind ?? 'none'}")`);
  }
  try {
    return JSON.parse(metadata.state) as RunState;
  } catch (e) {
    throw new Error(`${path}: malformed checkpoint state (${(e as Error).message})`);
  }
}
