// Loading a trained model for evaluation and inference: the adapters file written by `train`
// carries its model spec in the metadata; the backbone comes from the backbone file.

import { existsSync } from 'node:fs';
import { buildModel, initialWeights, modelParamShapes, type ModelSpec } from '../models/model.ts';
import { loadBackbone, loadWeights } from './checkpoint.ts';
import { readSafetensors } from '../io/safetensors.ts';

export async function loadTrainedModel(adaptersPath: string, backbonePath: string | undefined, batch: number): Promise<{ spec: ModelSpec; weights: Map<string, Float32Array> }> {
  if (!existsSync(adaptersPath)) throw new Error(`no such adapters file: ${adaptersPath} (train writes <out>/adapters.safetensors)`);
  const { metadata } = await readSafetensors(adaptersPath);
  if (!metadata.spec) throw new Error(`${adaptersPath} has no model spec in its metadata: was it written by train?`);
  const saved = JSON.parse(metadata.spec) as ModelSpec;
  const spec: ModelSpec = { ...saved, batch, training: undefined };
  const backbone = backbonePath ? (await loadBackbone(backbonePath, spec.vit)).weights : undefined;
  // A random backbone is re-created from the run's seed.
  const weights = initialWeights(spec, Number(metadata.seed ?? 0), backbone);
  const shapes = modelParamShapes(spec);
  const trainable = buildModel(spec).trainable;
  const trained = await loadWeights(adaptersPath, new Map(trainable.map((n) => [n, shapes.get(n)!])), { allowExtra: spec.pet.method === 'full' });
  for (const [k, v] of trained.weights) weights.set(k, v);
  if (spec.pet.method === 'full') {
    const all = await loadWeights(adaptersPath, shapes);
    for (const [k, v] of all.weights) weights.set(k, v);
  }
  return { spec, weights };
}
