/**
 * `fpet-webgpu/node`: everything in `fpet-webgpu`, plus what needs a file system (Node, Deno): data
 * sets, model and checkpoint files, training runs on disk, PNG files, the shipped files and recipes.
 *
 * @module fpet-webgpu/node
 */
// fpet-webgpu/node: the parts of the API that use Node's file system (also available in Deno):
// the MNIST / Fashion-MNIST loaders, model and checkpoint files, trained-model loading, whole
// training runs on disk, and PNG files. Everything else is in the main entry (src/index.ts).

export * from './index.ts';
export { DATASET_NAMES, loadDataset, type DatasetName } from './fpet/data/mnist.ts';
export { readSafetensors, readSafetensorsHeader, writeSafetensors } from './core/io/safetensors.ts';
export { checkWeights, loadBackbone, loadWeights, parseRunState, parseSpec, saveWeights, type LoadedWeights, type LoadOptions, type RunState } from './fpet/train/checkpoint.ts';
export { loadTrainedModel, type TrainedModel } from './fpet/train/trained-model.ts';
export { prepareRun, TRAIN_DEFAULTS, trainRun, type DataOptions, type EvalPreprocess, type FolderOptions, type PreparedRun, type TrainOptions, type TrainResult } from './fpet/train/run.ts';
export { readPng, readPngPlanar } from './core/io/png.ts';
export { SHIPPED_FILES, shippedPath } from './fpet/recipes/shipped.ts';
export { MAIN_JOB, SWEEP, mainJobModel, multiRunDefaults, type MainJobMethod } from './fpet/recipes/main-job.ts';
