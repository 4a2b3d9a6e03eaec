// Loading a trained model for evaluation and inference: the adapters file written by `train`
// carries its model spec in the metadata (validated against a bounded schema); the backbone comes
// from the backbone file. Files with the reference implementation's adapter names (timm + the
// official FPET code) load too.

import { existsSync } from 'node:fs';
import { buildModel, initialWeights, modelParamShapes, type ModelSpec } from '../models/model.ts';
import { readSafetensorsHeader } from '../io/safetensors.ts';
import type { NameRule } from '../io/name-map.ts';
import { isReferenceNaming, referenceNameRules } from '../models/reference-names.ts';
import { display } from '../util/text.ts';
import { checkWeights, loadBackbone, loadWeights, parseSpec } from './checkpoint.ts';

export interface TrainedModel {
  readonly spec: ModelSpec;
  readonly weights: Map<string, Float32Array>;
}

/**
 * The model an adapters file describes, at `batch`: its spec, the backbone's weights (from
 * `backbonePath`, or re-created from the run's seed when the run used a random backbone) and the
 * trained tensors. `nameMap` renames the backbone file's tensors.
 */
export async function loadTrainedModel(adaptersPath: string, backbonePath: string | undefined, batch: number, nameMap?: readonly NameRule[]): Promise<TrainedModel> {
  if (!existsSync(adaptersPath)) throw new Error(`no such adapters file: ${display(adaptersPath)} (train writes <out>/adapters.safetensors)`);
  const header = await readSafetensorsHeader(adaptersPath);
  const saved = parseSpec(header.metadata, adaptersPath);
  const spec: ModelSpec = { ...saved, batch, training: undefined };
  if (backbonePath === undefined && header.metadata.backbone && header.metadata.backbone !== 'random') {
    throw new Error(`${display(adaptersPath)} was trained on the backbone ${display(header.metadata.backbone)}: pass it with --backbone`);
  }
  const backbone = backbonePath ? (await loadBackbone(backbonePath, spec.vit, nameMap)).weights : undefined;
  if (backbone) checkWeights(backbone, backbonePath!);
  const weights = initialWeights(spec, Number(header.metadata.seed ?? 0), backbone);
  const shapes = modelParamShapes(spec);
  const trainable = buildModel(spec).trainable;
  const names = isReferenceNaming(header.tensors.keys()) ? referenceNameRules() : undefined;
  const wanted = spec.pet.method === 'full' ? shapes : new Map(trainable.map((n) => [n, shapes.get(n)!]));
  const trained = await loadWeights(adaptersPath, wanted, { nameMap: names });
  checkWeights(trained.weights, adaptersPath);
  for (const [k, v] of trained.weights) weights.set(k, v);
  return { spec, weights };
}
