// The main job's recipe (`npm start`, `fpet-webgpu transfer`): transfer from the shipped
// Fashion-MNIST backbone to MNIST with 1,000 training images (VTAB-1k style), tested on the official
// 10,000 MNIST test images, three ways: AdaptFormer, AdaptFormer + FPET (half of the patch tokens
// merged in block 3 of 6) and AdaptFormer + ToMe removing as many tokens. The CLI turns these
// values into its flag defaults; the benchmarks and tests build the same models from here.
// How the values were chosen: docs/results.md.

import { MNIST_DIGIT_BOX } from '../data/dataset.ts';
import { modelSpecOf, type ModelChoices } from '../models/model-choices.ts';
import { tokensRemoved, tomeScheduleRemoving, type ModelSpec } from '../models/model.ts';

/** The three runs of the main job. */
export type MainJobMethod = 'adaptformer' | 'fpet' | 'tome';

/** The main job: data, schedule, regularisation, merging and reporting (values that differ from `train`'s defaults, and the ones it is defined by). */
export const MAIN_JOB = {
  preset: 'vit-mnist',
  dataset: 'mnist',
  trainSize: 1000,
  testSize: 10_000,
  epochs: 20,
  batch: 16,
  lr: 1e-2,
  /** Random whole-pixel shifts of up to this many pixels. */
  augmentShift: 1,
  /** DropPath would drop residual branches of a frozen backbone: noise on the features the adapters learn from (+0.9 points without it, PyTorch, 2 seeds). */
  dropPath: 0,
  /** Chosen with the adapter width on 5,000 held-out MNIST training images. */
  dropout: 0,
  /** FPET merges in block 3 of 6 at ratio 0.5 (all of set A, the reference's setting). */
  fpetBlocks: [3],
  mergeRatio: 0.5,
  methods: ['adaptformer', 'fpet', 'tome'],
  /** Inference steps timed per trained model, interleaved. */
  timingRounds: 16,
  /** Test images whose merge maps are drawn per merging run. */
  mapImages: 4,
  out: 'runs/transfer',
} as const;

/** The accuracy–speed sweep (`fpet-webgpu sweep`): shorter runs over FPET ratios × blocks and ToMe's r. */
export const SWEEP = {
  epochs: 6,
  batch: 32,
  lr: 1e-2,
  testSize: 2000,
  augmentShift: 2,
  ratios: [0.25, 0.5],
  blocks: [1, 2, 3, 4],
  tomeRs: [2, 4, 6, 8],
  timingRounds: 12,
  out: 'runs/sweep',
} as const;

/**
 * Adapter width of the multi-run jobs on vit-mnist: 32 rather than the ViT-B recipe's 8 (8 is an
 * eighth of this 64-wide model and underfits: MNIST-1k test 91.2% vs 89.2%, PyTorch, 2 seeds).
 */
export const MULTI_RUN_ADAPTER_DIM = 32;

/**
 * What transfer and sweep fill in when the user did not choose: the MNIST digit box as input crop
 * on MNIST (the backbone's Fashion-MNIST objects fill the frame, MNIST digits a 20×20 box; not for
 * an image folder, `data`), and width-32 adapters for 32-bit AdaptFormer/LoRA on vit-mnist.
 * Explicit values are kept.
 */
export function multiRunDefaults(a: { dataset: string; data?: string; inputCrop?: number; preset: string; method: string; bits: number; adapterDim?: number }): { inputCrop?: number; adapterDim?: number } {
  const wideAdapters = a.preset === 'vit-mnist' && a.bits === 32 && (a.method === 'adaptformer' || a.method === 'lora');
  return {
    ...(a.inputCrop !== undefined ? { inputCrop: a.inputCrop } : a.dataset === 'mnist' && a.data === undefined ? { inputCrop: MNIST_DIGIT_BOX } : {}),
    ...(a.adapterDim !== undefined ? { adapterDim: a.adapterDim } : wideAdapters ? { adapterDim: MULTI_RUN_ADAPTER_DIM } : {}),
  };
}

/** The model choices of the main job's AdaptFormer run. */
export function mainJobChoices(batch: number = MAIN_JOB.batch): ModelChoices {
  const base = { preset: MAIN_JOB.preset, method: 'adaptformer', bits: 32, dataset: MAIN_JOB.dataset } as const;
  return { ...base, ...multiRunDefaults(base), adapterScale: 1, adapterBias: false, merge: 'none', mergeRatio: MAIN_JOB.mergeRatio, tomeR: 4, batch };
}

/**
 * The model of one main-job run at `batch` (training regularisation included when `training`):
 * what `npm start` trains, for benchmarks and tests that time or check the same models.
 */
export function mainJobModel(method: MainJobMethod, batch: number = MAIN_JOB.batch, training = false): ModelSpec {
  const base = modelSpecOf(mainJobChoices(batch));
  const fpet = modelSpecOf({ ...mainJobChoices(batch), merge: 'fpet', mergeBlocks: MAIN_JOB.fpetBlocks });
  const spec = method === 'adaptformer' ? base : method === 'fpet' ? fpet : { ...base, merge: tomeScheduleRemoving(base, tokensRemoved(fpet)) };
  return training ? { ...spec, training: { dropout: MAIN_JOB.dropout, dropPath: MAIN_JOB.dropPath } } : spec;
}
