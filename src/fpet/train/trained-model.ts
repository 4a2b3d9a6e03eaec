// Loading a trained model for evaluation and inference from files: the backbone (a safetensors
// file in timm names, optionally renamed by a name map) and the adapters file written by `train`
// (decoded by src/fpet/train/model-files.ts, the code the web page uses too).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ModelSpec } from '../models/model.ts';
import { readSafetensorsHeader } from '../../core/io/safetensors.ts';
import type { NameRule } from '../../core/io/name-map.ts';
import { parseSpec } from './checkpoint.ts';
import { display } from '../../core/util/text.ts';
import { loadBackbone } from './checkpoint.ts';
import { checkWeights, decodeAdapters, type RecordedData } from './model-files.ts';

/**
 * A trained model loaded from files: its spec (without training) and every weight, ready for a
 * Classifier, with what an image-folder run recorded (class names, eval transform, split).
 */
export interface TrainedModel extends RecordedData {
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
  // The header (bounded) and the spec (a bounded schema) are checked before the data is read.
  const header = await readSafetensorsHeader(adaptersPath);
  const spec = parseSpec(header.metadata, adaptersPath);
  if (backbonePath === undefined && header.metadata.backbone && header.metadata.backbone !== 'random') {
    throw new Error(`${display(adaptersPath)} was trained on the backbone ${display(header.metadata.backbone)}: pass it with --backbone`);
  }
  const backbone = backbonePath ? (await loadBackbone(backbonePath, spec.vit, nameMap)).weights : undefined;
  if (backbone) checkWeights(backbone, backbonePath!);
  const m = decodeAdapters(new Uint8Array(await readFile(adaptersPath)), backbone, batch, adaptersPath);
  return { spec: m.spec, weights: m.weights, ...(m.classes ? { classes: m.classes } : {}), ...(m.preprocess ? { preprocess: m.preprocess } : {}), ...(m.split ? { split: m.split } : {}) };
}
