// The options of the commands that train (train, transfer, sweep) and their translation into the
// library's TrainOptions. transfer's and sweep's defaults are their recipes
// (src/fpet/recipes/main-job.ts) turned into flag defaults.

import { resolve } from 'node:path';
import { UsageError, type OptionSpec, type Parsed } from './args.ts';
import { display } from '../../core/util/text.ts';
import { validateSpec, type ModelSpec } from '../../fpet/models/model.ts';
import { INPUT_CROP_HELP, MODEL_OPTIONS, NAME_MAP_OPTION, TUNE_OPTION, backboneOption, backbonePath, modelSpecFrom, readNameMapOption } from './model-options.ts';
import type { TuneMode } from '../../core/runtime/tune.ts';
import { MODEL_SPEC_LIMITS, RUN_STATE_LIMITS } from '../../core/io/schema.ts';
import { TRAIN_DEFAULTS, type TrainOptions } from '../../fpet/train/run.ts';
import { DATA_OPTIONS, INPUT_OPTIONS, TRANSFORM_OPTIONS, channelsFrom, dataOptionsFrom, normalizationFrom } from './data-options.ts';
import { FOLDER_LIMITS } from '../../fpet/data/image-folder.ts';
import { AFFINE_AUGMENT_LIMITS, MNIST_DIGIT_BOX, type AffineAugment } from '../../fpet/data/dataset.ts';
import { MAIN_JOB, MULTI_RUN_ADAPTER_DIM, SWEEP } from '../../fpet/recipes/main-job.ts';

/** `train`'s options: the model, the data, the schedule, the run folder. */
export const TRAIN_OPTIONS = {
  ...MODEL_OPTIONS,
  ...NAME_MAP_OPTION,
  ...TUNE_OPTION,
  ...DATA_OPTIONS,
  ...TRANSFORM_OPTIONS,
  ...INPUT_OPTIONS,
  trainSize: { type: 'number', integer: true, min: 1, max: FOLDER_LIMITS.maxImages, help: 'training images (VTAB-1k style; default: 1000 of MNIST / Fashion-MNIST, every training image of an image folder; fewer: a class-stratified sample)' },
  testSize: { type: 'number', integer: true, min: 1, max: FOLDER_LIMITS.maxImages, help: 'held-out test images (default: 2000 of MNIST / Fashion-MNIST, every held-out image of an image folder)' },
  splitSeed: { type: 'number', default: 0, integer: true, min: RUN_STATE_LIMITS.minSeed, max: RUN_STATE_LIMITS.maxSeed, help: 'seed of the train/test split' },
  epochs: { type: 'number', default: 10, integer: true, min: 1, max: RUN_STATE_LIMITS.maxEpochs, help: 'epochs' },
  lr: { type: 'number', default: TRAIN_DEFAULTS.lr, min: 1e-12, max: 10, help: 'peak learning rate' },
  minLr: { type: 'number', default: TRAIN_DEFAULTS.minLr, min: 0, max: 10, help: 'final learning rate of the cosine' },
  warmupLr: { type: 'number', default: TRAIN_DEFAULTS.warmupLr, min: 0, max: 10, help: 'initial warm-up learning rate' },
  warmupEpochs: { type: 'number', min: 0, max: RUN_STATE_LIMITS.maxEpochs, help: 'warm-up epochs (default: 10% of epochs, at least 1)' },
  schedule: { type: 'string', default: 'step', choices: ['step', 'epoch'], help: 'LR updated every step, or per epoch exactly as the reference (timm)' },
  weightDecay: { type: 'number', default: TRAIN_DEFAULTS.adamw.weightDecay, min: 0, max: 10, help: 'AdamW decoupled weight decay' },
  dropout: { type: 'number', default: TRAIN_DEFAULTS.dropout, min: 0, max: 0.95, help: 'adapter dropout' },
  dropPath: { type: 'number', default: TRAIN_DEFAULTS.dropPath, min: 0, max: 0.95, help: 'stochastic depth rate of the last block' },
  augment: { type: 'number', default: TRAIN_DEFAULTS.augmentShift, integer: true, min: 0, max: 8, help: 'random shifts of up to N pixels (augmentation; 0: off)' },
  augmentScale: { type: 'list', maxItems: 2, min: AFFINE_AUGMENT_LIMITS.scale[0], max: AFFINE_AUGMENT_LIMITS.scale[1], help: 'random zoom MIN,MAX: each image is resampled on a grid scaled by a factor drawn from [MIN, MAX] (above 1 the object shrinks); with it the shifts become sub-pixel' },
  augmentRotate: { type: 'number', default: 0, min: AFFINE_AUGMENT_LIMITS.rotate[0], max: AFFINE_AUGMENT_LIMITS.rotate[1], help: 'random rotation of up to ±N degrees (with it the shifts become sub-pixel)' },
  augmentPlain: { type: 'number', default: 0, min: AFFINE_AUGMENT_LIMITS.plain[0], max: AFFINE_AUGMENT_LIMITS.plain[1], help: 'fraction of the images left unzoomed and unrotated (with --augment-scale or --augment-rotate)' },
  seed: { type: 'number', default: TRAIN_DEFAULTS.seed, integer: true, min: RUN_STATE_LIMITS.minSeed, max: RUN_STATE_LIMITS.maxSeed, help: 'seed of initialisation, batch order, dropout' },
  evalBatch: { type: 'number', default: TRAIN_DEFAULTS.evalBatch, integer: true, min: 1, max: 65_536, help: 'evaluation batch size' },
  evalEvery: { type: 'number', default: TRAIN_DEFAULTS.evalEvery, integer: true, min: 1, max: RUN_STATE_LIMITS.maxEpochs, help: 'evaluate every N epochs' },
  logEvery: { type: 'number', default: TRAIN_DEFAULTS.logEvery, integer: true, min: 1, max: 1_000_000, help: 'read the loss back every N steps' },
  backbone: backboneOption('pre-trained backbone (safetensors, timm names); "random" for random weights'),
  checkWeights: { type: 'boolean', default: true, help: 'refuse a backbone with non-finite or absurd weights' },
  out: { type: 'string', default: 'runs/train', help: 'output folder (checkpoint, adapters, run.json, result.json, curves.svg)' },
  resume: { type: 'string', help: 'checkpoint to continue from' },
  force: { type: 'boolean', default: false, help: 'replace a run already in --out' },
  saveModel: { type: 'string', help: 'also write the whole trained model (safetensors, timm names) here' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

/** Parsed `train` options. */
export type TrainArgs = Parsed<typeof TRAIN_OPTIONS>;

const { resume: _resume, saveModel: _saveModel, ...multiRunOptions } = TRAIN_OPTIONS;
const ONLY_AFTER_LAST = { min: 0, help: 'evaluate every N epochs (0: only after the last)' } as const;

/** Options of the commands that train several runs (transfer, sweep): one checkpoint or model file cannot serve them all. */
export const MULTI_RUN_OPTIONS = {
  ...multiRunOptions,
  dropPath: { ...multiRunOptions.dropPath, default: MAIN_JOB.dropPath },
  dropout: { ...multiRunOptions.dropout, default: MAIN_JOB.dropout },
  adapterDim: { ...multiRunOptions.adapterDim, help: `adapter bottleneck width (default: ${MULTI_RUN_ADAPTER_DIM} on vit-mnist and for 1-bit adapters, 8 for 32-bit adapters on the other presets)` },
  inputCrop: { ...multiRunOptions.inputCrop, help: `${INPUT_CROP_HELP}; absent: ${MNIST_DIGIT_BOX} on MNIST (digits fill a ${MNIST_DIGIT_BOX}×${MNIST_DIGIT_BOX} box; the Fashion-MNIST backbone's objects fill the frame), the whole image otherwise` },
} as const satisfies Record<string, OptionSpec>;

/** `transfer`'s options: the main job's recipe as defaults. */
export const TRANSFER_OPTIONS = {
  ...MULTI_RUN_OPTIONS,
  dataset: { ...TRAIN_OPTIONS.dataset, default: MAIN_JOB.dataset },
  trainSize: { ...TRAIN_OPTIONS.trainSize, help: `training images (default: ${MAIN_JOB.trainSize} of MNIST / Fashion-MNIST, every training image of an image folder)` },
  epochs: { ...TRAIN_OPTIONS.epochs, default: MAIN_JOB.epochs },
  batch: { ...TRAIN_OPTIONS.batch, default: MAIN_JOB.batch },
  lr: { ...TRAIN_OPTIONS.lr, default: MAIN_JOB.lr },
  testSize: { ...TRAIN_OPTIONS.testSize, help: `held-out test images (default: ${MAIN_JOB.testSize} of MNIST, every held-out image of an image folder)` },
  evalEvery: { ...TRAIN_OPTIONS.evalEvery, ...ONLY_AFTER_LAST, default: 0 },
  // No fixed default: the preset's middle block, which on vit-mnist is MAIN_JOB.fpetBlocks (3 of 6), on the 224² presets 6 of 12.
  mergeBlocks: { ...TRAIN_OPTIONS.mergeBlocks, help: `FPET's merge block (0-based; default: the middle block, ${MAIN_JOB.fpetBlocks.join(',')} on ${MAIN_JOB.preset}, 6 on vit-ti16/s16/b16)` },
  mergeRatio: { ...TRAIN_OPTIONS.mergeRatio, default: MAIN_JOB.mergeRatio },
  augment: { ...TRAIN_OPTIONS.augment, default: MAIN_JOB.augmentShift },
  out: { ...TRAIN_OPTIONS.out, default: MAIN_JOB.out },
  methods: { type: 'list', default: MAIN_JOB.methods, choices: ['adaptformer', 'fpet', 'tome'], unique: true, help: 'runs to compare (AdaptFormer; + FPET; + ToMe removing as many tokens as FPET)' },
  seeds: { type: 'number', default: 1, integer: true, min: 1, max: 100, help: 'repeat every run with seeds 0..N-1 and report mean ± std' },
  timingRounds: { type: 'number', default: MAIN_JOB.timingRounds, integer: true, min: 1, max: 1000, help: 'inference steps timed per model (interleaved; its img/s is from the median step)' },
  mapImages: { type: 'number', default: MAIN_JOB.mapImages, integer: true, min: 0, max: 100, help: 'test images whose merge maps are drawn per merging run' },
} as const satisfies Record<string, OptionSpec>;

/** `sweep`'s options: its recipe as defaults. */
export const SWEEP_OPTIONS = {
  ...MULTI_RUN_OPTIONS,
  epochs: { ...TRAIN_OPTIONS.epochs, default: SWEEP.epochs },
  batch: { ...TRAIN_OPTIONS.batch, default: SWEEP.batch },
  lr: { ...TRAIN_OPTIONS.lr, default: SWEEP.lr },
  testSize: { ...TRAIN_OPTIONS.testSize, help: `held-out test images (default: ${SWEEP.testSize} of MNIST / Fashion-MNIST, every held-out image of an image folder)` },
  evalEvery: { ...TRAIN_OPTIONS.evalEvery, ...ONLY_AFTER_LAST, default: 0 },
  augment: { ...TRAIN_OPTIONS.augment, default: SWEEP.augmentShift },
  out: { ...TRAIN_OPTIONS.out, default: SWEEP.out },
  ratios: { type: 'list', min: TRAIN_OPTIONS.mergeRatio.min, max: TRAIN_OPTIONS.mergeRatio.max, unique: true, maxItems: 32, default: SWEEP.ratios.map(String), help: 'FPET merge ratios' },
  blocks: { type: 'list', integer: true, min: 0, max: MODEL_SPEC_LIMITS.maxDepth - 1, unique: true, maxItems: MODEL_SPEC_LIMITS.maxDepth, default: SWEEP.blocks.map(String), help: 'FPET merge blocks (one merge each)' },
  tomeRs: { type: 'list', integer: true, min: 1, max: 1000, unique: true, maxItems: 32, default: SWEEP.tomeRs.map(String), help: 'ToMe tokens merged per block (blocks 0..depth-2)' },
  timingRounds: { type: 'number', default: SWEEP.timingRounds, integer: true, min: 1, max: 1000, help: 'inference steps timed per model (interleaved; its img/s is from the median step)' },
} as const satisfies Record<string, OptionSpec>;

/** --augment-scale / --augment-rotate / --augment-plain as AffineAugment (absent when neither zoom nor rotation is asked for). */
function affineAugmentFrom(a: { augmentScale?: string[]; augmentRotate: number; augmentPlain: number }): { augmentAffine?: AffineAugment } {
  const scale = a.augmentScale?.map(Number);
  if (scale && (scale.length !== 2 || !(scale[0]! <= scale[1]!))) {
    throw new UsageError(`--augment-scale takes MIN,MAX with ${AFFINE_AUGMENT_LIMITS.scale[0]} <= MIN <= MAX <= ${AFFINE_AUGMENT_LIMITS.scale[1]} (got ${a.augmentScale!.join(',')})`);
  }
  if (!scale && a.augmentRotate === 0) {
    if (a.augmentPlain !== 0) throw new UsageError('--augment-plain needs --augment-scale or --augment-rotate');
    return {};
  }
  return { augmentAffine: { scale: (scale as [number, number] | undefined) ?? [1, 1], rotate: a.augmentRotate, plain: a.augmentPlain } };
}

/** Training and test images of MNIST / Fashion-MNIST when --train-size / --test-size are not given (`train`'s; transfer and sweep pass their recipes'). */
export const MNIST_SIZES = { trainSize: 1000, testSize: 2000 } as const;

/**
 * The library's TrainOptions from parsed train options (transfer's and sweep's are a superset);
 * `sizes` are the split sizes of MNIST / Fashion-MNIST when the options give none (an image folder
 * uses all of its images then).
 */
export function trainOptionsFrom(a: Omit<TrainArgs, 'resume' | 'saveModel'> & Partial<Pick<TrainArgs, 'resume' | 'saveModel'>>, sizes: { trainSize: number; testSize: number } = MNIST_SIZES): TrainOptions {
  const data = dataOptionsFrom(a);
  const base = modelSpecFrom(a);
  const channels = channelsFrom(a, base.vit.inChannels);
  const normalize = normalizationFrom(a, channels, data.folder !== undefined);
  const given = (v: number | undefined, d: number) => v ?? (data.folder ? undefined : d);
  return {
    spec: { ...base, vit: { ...base.vit, inChannels: channels }, ...(normalize ? { normalize } : {}) },
    data: { ...data, trainSize: given(a.trainSize as number | undefined, sizes.trainSize), testSize: given(a.testSize as number | undefined, sizes.testSize), splitSeed: a.splitSeed },
    epochs: a.epochs,
    lr: a.lr, minLr: a.minLr, warmupLr: a.warmupLr,
    warmupEpochs: a.warmupEpochs ?? Math.max(1, Math.round(a.epochs / 10)),
    schedule: a.schedule as 'step' | 'epoch',
    adamw: { ...TRAIN_DEFAULTS.adamw, weightDecay: a.weightDecay },
    dropout: a.dropout, dropPath: a.dropPath, augmentShift: a.augment, ...affineAugmentFrom(a), seed: a.seed,
    evalBatch: a.evalBatch, evalEvery: a.evalEvery, logEvery: a.logEvery,
    backbone: backbonePath(a.backbone), nameMap: readNameMapOption(a.nameMap), checkWeights: a.checkWeights,
    outDir: a.out, resume: a.resume, force: a.force, saveModel: a.saveModel,
    tune: a.tune as TuneMode,
  };
}

/** The most runs one multi-run command trains (sweep: ratios × blocks + ToMe's r + AdaptFormer). */
export const MAX_RUNS = 256;

/** One run a multi-run command plans: what it is called in messages, its model and its folder. */
export interface PlannedRun {
  readonly label: string;
  readonly spec: ModelSpec;
  readonly outDir: string;
}

/**
 * Checks a multi-run command's runs before any data is loaded or anything is trained: at most
 * MAX_RUNS, each model valid (the message names the run, i.e. the option values that made it), and
 * no two runs training into the same folder.
 */
export function checkPlannedRuns(command: string, runs: readonly PlannedRun[], dropout: number, dropPath: number): void {
  if (runs.length > MAX_RUNS) throw new UsageError(`${command}: ${runs.length} runs is more than the ${MAX_RUNS} one command trains; use shorter lists`);
  const folders = new Map<string, string>();
  for (const r of runs) {
    try {
      validateSpec({ ...r.spec, training: { dropout, dropPath } });
    } catch (e) {
      throw new UsageError(`${command}: ${r.label}: ${(e as Error).message}`);
    }
    const key = resolve(r.outDir);
    const other = folders.get(key);
    if (other !== undefined) throw new UsageError(`${command}: ${other} and ${r.label} would train into the same folder ${display(r.outDir)}; each run once`);
    folders.set(key, r.label);
  }
}
