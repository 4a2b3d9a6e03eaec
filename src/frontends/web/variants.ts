// The two models the page compares, AdaptFormer with and without FPET: their recipe (the main
// job's, so the shipped adapters, the CLI's runs and a run started on the page are the same
// models), their specs and their names. Shared by the page and its GPU worker; no DOM here.

import { MNIST_DIGIT_BOX } from '../../fpet/data/dataset.ts';
import type { ModelSpec } from '../../fpet/models/model.ts';
import { VIT_PRESETS } from '../../fpet/models/vit.ts';
import { MAIN_JOB, mainJobModel } from '../../fpet/recipes/main-job.ts';

/** The page's two models: AdaptFormer, and AdaptFormer + FPET. */
export type VariantId = 'base' | 'fpet';
/** Both variants, in the order the page shows them. */
export const VARIANTS: readonly VariantId[] = ['base', 'fpet'];
/** Each variant's colour in the charts (the swatches in styles.css match). */
export const COLOURS: Record<VariantId, string> = { base: '#4363d8', fpet: '#e8731a' };
/**
 * The main job's recipe (`npm start -- transfer`, src/fpet/recipes/main-job.ts): width-32
 * adapters, no dropout or DropPath (the backbone is frozen), random 1-pixel shifts, peak LR 1e-2;
 * the CLI's schedule ends and seed. On MNIST the models see the central 20×20 (modelSpec).
 */
export const TRAINING = {
  dropout: MAIN_JOB.dropout, dropPath: MAIN_JOB.dropPath, augmentShift: MAIN_JOB.augmentShift, lr: MAIN_JOB.lr,
  minLr: 1e-5, warmupLr: 1e-6, seed: 0,
} as const;
/** The shipped backbone's geometry. */
export const VIT = VIT_PRESETS['vit-mnist'];
/** Side of the model's input picture, in pixels. */
export const IMAGE = VIT.imageSize;
/** Where FPET merges when nothing else is chosen: the main job's block (the middle one). */
export const MIDDLE_BLOCK = MAIN_JOB.fpetBlocks[0];

/** The merge block and ratio FPET is specialised for. */
export interface MergeChoice {
  readonly mergeBlock: number;
  readonly mergeRatio: number;
}

/** A variant's model for a batch size, data set and (FPET) merge choice: the main job's model, moved to that block and ratio. */
export function modelSpec(id: VariantId, batch: number, dataset: string | undefined, classes: number, s?: MergeChoice): ModelSpec {
  const job = mainJobModel(id === 'fpet' ? 'fpet' : 'adaptformer', batch);
  const merge = job.merge && s ? { ...job.merge, blocks: [s.mergeBlock], ratio: s.mergeRatio } : job.merge;
  const { inputCrop: _crop, ...rest } = job;
  return {
    ...rest,
    vit: { ...VIT, numClasses: classes },
    merge,
    // As the main job: the Fashion-MNIST backbone sees MNIST digits at its own object scale.
    ...(dataset === undefined || dataset === 'mnist' ? { inputCrop: MNIST_DIGIT_BOX } : {}),
  };
}

/** A model's name as the page shows it (from its spec: a loaded file may be another method). */
export function specLabel(s: ModelSpec): string {
  const pet = s.pet.method === 'adaptformer' ? `${s.pet.bits === 1 ? 'Bi-' : ''}AdaptFormer` : s.pet.method === 'lora' ? `${s.pet.bits === 1 ? 'Bi-' : ''}LoRA` : s.pet.method === 'full' ? 'Full fine-tuning' : 'Linear probe';
  const merge = !s.merge ? '' : s.merge.kind === 'fpet' ? ' + FPET' : ` + ToMe r=${s.merge.r}`;
  return pet + merge;
}
