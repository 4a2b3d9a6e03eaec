// A training run on disk: everything `train` and the main job do around the loop. Options are
// validated and the run folder checked before any GPU work or any file is written; weights come
// from a backbone file (checked for non-finite or absurd values) or a checkpoint (its run state
// validated against a bounded schema and against the options); after every epoch — and when the
// caller asks to stop, at the next step boundary — the run writes one consistent set of files:
// checkpoint.safetensors (trainable parameters, AdamW state, run state), adapters.safetensors
// (trainable parameters and the model spec) and run.json (a manifest written last, naming the step
// both files hold). A file set left inconsistent by a kill is repaired on the next start.

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeSplits, type AffineAugment, type Subset } from '../data/dataset.ts';
import { sourceBatchCount, sourceOf, type BatchSource } from '../data/batch-source.ts';
import { openFolderData } from '../data/image-source.ts';
import type { ImageTransform } from '../data/transforms.ts';
import { loadDataset, type DatasetName } from '../data/mnist.ts';
import { buildModel, initialWeights, modelParamShapes, validateSpec, type BuiltModel, type ModelSpec } from '../models/model.ts';
import type { NameRule } from '../../core/io/name-map.ts';
import type { GpuContext } from '../../core/runtime/device.ts';
import { describeTune, type TuneMode } from '../../core/runtime/tune.ts';
import { Progress } from '../../core/util/progress.ts';
import { writeFileAtomic } from '../../core/util/atomic.ts';
import { checkOutputDir, checkOutputFile, makeDir, removeStaleTemporaries } from '../../core/util/files.ts';
import { display } from '../../core/util/text.ts';
import { recordedData, recordedNameMap, resumeCheck, resumeOptionsCheck, type ResumePoint } from './resume.ts';
import { batchLimitError } from './batch-limit.ts';
import { lineChart } from '../../core/util/svg.ts';
import { checkWeights, inspectBackbone, loadBackbone, loadWeights, parseRunState, readRunManifest, runStateMetadata, saveWeights, type RunState } from './checkpoint.ts';
import { Classifier, type Weights } from './inference.ts';
import { DeferredEvaluator } from './deferred-evaluator.ts';
import { compileGraph, type CompiledPlan } from '../../../codegen/compile.ts';
import { deviceLimits } from '../../core/runtime/program.ts';
import { adaptersMetadata } from './model-files.ts';
import { trainLoop, type EpochRecord, type LoopResult } from './loop.ts';
import { ADAMW_DEFAULTS, type AdamWConfig } from './optimizer.ts';
import { TrainStep, trainStepGraph } from './train-step.ts';

/** Which data set a run trains and evaluates on, and how it is split. */
export interface DataOptions {
  /** MNIST or Fashion-MNIST (in memory); not used when `folder` is given (run records then say "folder"). */
  readonly dataset: DatasetName;
  /** Training images (an image folder: a stratified sample of its training split; absent: all of it). */
  readonly trainSize?: number;
  /** Held-out images (likewise). */
  readonly testSize?: number;
  readonly splitSeed: number;
  /** An image folder to train and evaluate on instead of `dataset`, and how it is read. */
  readonly folder?: FolderOptions;
}

/** An image folder as a run's data: where, its split, the decoding threads and the transforms. */
export interface FolderOptions {
  /** The folder (torchvision ImageFolder layout: src/fpet/data/image-folder.ts). */
  readonly root: string;
  /** Without a held-out folder (val/): the fraction of every class held out, drawn with the split seed. */
  readonly valSplit: number;
  /** Leave unreadable files out (counted) instead of stopping. */
  readonly skipBad: boolean;
  /** Decoding threads (0: the main thread; absent: the cores left, 1 to 8). */
  readonly workers?: number;
  /** Batches decoded ahead of the step. */
  readonly prefetch: number;
  /** Eval and train transforms; `size` is the model's image size. */
  readonly transform: Omit<ImageTransform, 'size'>;
}

/** The eval transform recorded with a model trained on an image folder (infer and eval apply it to new images). */
export type EvalPreprocess = Pick<ImageTransform, 'cropPct' | 'interpolation'>;

/** Everything a training run is configured by: model, data, schedule, augmentation, files. */
export interface TrainOptions {
  /** Model to train; `training` (dropout, DropPath) is set from the options below. */
  readonly spec: ModelSpec;
  readonly data: DataOptions;
  readonly epochs: number;
  readonly lr: number;
  readonly minLr: number;
  readonly warmupLr: number;
  readonly warmupEpochs: number;
  readonly schedule: 'epoch' | 'step';
  readonly adamw: AdamWConfig;
  readonly dropout: number;
  readonly dropPath: number;
  readonly augmentShift: number;
  /** Random zoom and rotation on top of the shifts (pre-training; absent: whole-pixel shifts only). */
  readonly augmentAffine?: AffineAugment;
  readonly seed: number;
  readonly evalBatch: number;
  /** Evaluate every this many epochs (and after the last). */
  readonly evalEvery: number;
  /** Read the loss back every this many steps. */
  readonly logEvery: number;
  /** Safetensors backbone in timm names (else random weights). */
  readonly backbone?: string;
  /** Rules renaming the backbone file's tensors. */
  readonly nameMap?: readonly NameRule[];
  /** Refuse a backbone with non-finite or absurdly large weights (default true). */
  readonly checkWeights?: boolean;
  readonly outDir: string;
  /** Continue from this checkpoint. */
  readonly resume?: string;
  /** Replace an existing run folder's files. */
  readonly force?: boolean;
  /** Also write the whole trained model (backbone + modules, no optimizer state) here. */
  readonly saveModel?: string;
  /** Stop after this many epochs in this invocation (for tests of resuming). */
  readonly stopAfterEpochs?: number;
  /** Checked at every step boundary and between evaluation batches: true stops with a checkpoint. */
  readonly shouldStop?: () => boolean;
  /** Called after every step (tests inject faults here). */
  readonly onStep?: (step: number) => void;
  readonly quiet?: boolean;
  /** Matmul variant tuning (src/core/runtime/tune.ts; default off: the command line passes its --tune). */
  readonly tune?: TuneMode;
}

/** Default values of the training options (the command line shows them as its defaults). */
export const TRAIN_DEFAULTS = {
  lr: 1e-3, minLr: 1e-5, warmupLr: 1e-6, schedule: 'step' as const, adamw: ADAMW_DEFAULTS,
  dropout: 0.1, dropPath: 0.1, augmentShift: 0, seed: 0, evalBatch: 100, evalEvery: 1, logEvery: 5,
};

/** What a run reports: per-epoch history, accuracies, speeds, memory and the files written. */
export interface TrainResult {
  readonly history: EpochRecord[];
  readonly finalAccuracy: number;
  readonly bestAccuracy: number;
  readonly trainImagesPerSec: number;
  readonly inferImagesPerSec: number;
  /** GPU bytes of the training program (parameters + optimizer state + inputs + planned work arena). */
  readonly trainPeakBytes: number;
  readonly trainWorkBytes: number;
  readonly inferPeakBytes: number;
  readonly trainableParams: number;
  readonly trainKernels: number;
  readonly checkpoint: string;
  readonly adapters: string;
  /** Stopped before the last epoch at the caller's request. */
  readonly interrupted: boolean;
  readonly step: number;
}

/** What a run needs before the GPU: checked options, data, the model, and where files go. */
export interface PreparedRun {
  readonly o: TrainOptions;
  readonly spec: ModelSpec;
  readonly train: Subset | BatchSource;
  readonly test: Subset | BatchSource;
  /** The class names (saved in the adapters file). */
  readonly classes: readonly string[];
  /** An image folder's eval transform (saved in the adapters file). */
  readonly preprocess?: EvalPreprocess;
  /** The checkpoint's run state when resuming. */
  readonly resumeState?: RunState;
  /** The checkpoint's trainable parameters and AdamW state when resuming (checked: finite, second moments ≥ 0). */
  readonly resumeWeights?: Weights;
  readonly paths: { checkpoint: string; adapters: string; manifest: string };
}

const fileSetOf = (dir: string) => ({
  checkpoint: join(dir, 'checkpoint.safetensors'),
  adapters: join(dir, 'adapters.safetensors'),
  manifest: join(dir, 'run.json'),
});

/** The files a run writes in its folder: each must be a regular file when present. */
const RUN_FILES = ['checkpoint.safetensors', 'adapters.safetensors', 'run.json', 'result.json', 'curves.svg'];

/**
 * Validates everything that can be checked without a GPU and without writing a file: the model
 * spec (before the data set is loaded), the data (split sizes, image geometry), the run folder
 * and --save-model, and, when resuming, the checkpoint against the options (see ./resume.ts).
 */
export async function prepareRun(o: TrainOptions): Promise<PreparedRun> {
  validateSpec({ ...o.spec, training: { dropout: o.dropout, dropPath: o.dropPath } });
  // Flags first (run folder, --save-model, a resumed run's options), then the files they name.
  const paths = checkRunFolder(o);
  if (o.resume) await resumeOptionsCheck({ ...o, resume: o.resume });
  const vit = o.backbone ? await inspectBackbone(o.backbone, o.spec.vit, o.nameMap) : o.spec.vit;
  const data = await runData(o, { ...o.spec, vit });
  const spec: ModelSpec = { ...o.spec, vit: { ...vit, numClasses: data.classes.length }, training: { dropout: o.dropout, dropPath: o.dropPath } };
  validateSpec(spec);
  const trainCount = sourceOf(data.train).count;
  if (trainCount < spec.batch) throw new Error(`--batch ${spec.batch} is larger than the ${trainCount} training images (--train-size)`);
  if (o.evalBatch < 1) throw new Error(`--eval-batch must be >= 1 (got ${o.evalBatch})`);
  let resume: ResumePoint | undefined;
  if (o.resume) {
    const built = buildModel(spec);
    resume = await resumeCheck({ ...o, resume: o.resume }, spec, built.paramShapes, built.trainable, trainCount);
  }
  return { o, spec, ...data, resumeState: resume?.state, resumeWeights: resume?.weights, paths };
}

/** A run's data: MNIST / Fashion-MNIST split in memory, or an image folder scanned (progress, bad files) into sources. */
async function runData(o: TrainOptions, spec: ModelSpec): Promise<Pick<PreparedRun, 'train' | 'test' | 'classes' | 'preprocess'>> {
  const { vit } = spec;
  const f = o.data.folder;
  if (f) {
    if (vit.inChannels !== 1 && vit.inChannels !== 3) throw new Error(`an image folder gives 1 (grey) or 3 (RGB) channels; the model takes ${vit.inChannels} (--channels)`);
    const d = await openFolderData({
      root: f.root, valSplit: f.valSplit, splitSeed: o.data.splitSeed, skipBad: f.skipBad, workers: f.workers, prefetch: f.prefetch,
      channels: vit.inChannels, transform: { ...f.transform, size: vit.imageSize }, trainSize: o.data.trainSize, testSize: o.data.testSize, progress: !o.quiet,
    });
    if (!o.quiet) {
      const skipped = d.folder.skipped.length ? `; left out (--skip-bad): ${d.folder.skipped.length}: ${d.folder.skipped.slice(0, 3).join('; ')}${d.folder.skipped.length > 3 ? '; …' : ''}` : '';
      console.log(`data: ${display(f.root)}: ${d.folder.classes.length} classes, ${d.train.count} training and ${d.test.count} held-out images (${d.folder.valFrom})${d.folder.ignored ? `, ${d.folder.ignored} other files ignored` : ''}${skipped}`);
    }
    return { train: d.train, test: d.test, classes: d.folder.classes, preprocess: { cropPct: f.transform.cropPct, interpolation: f.transform.interpolation } };
  }
  const ds = loadDataset(o.data.dataset);
  if (vit.imageSize !== ds.imageSize || vit.inChannels !== ds.channels) {
    throw new Error(`the model expects ${vit.inChannels}×${vit.imageSize}×${vit.imageSize} images but ${ds.name} has ${ds.channels}×${ds.imageSize}×${ds.imageSize} (--preset vit-mnist fits it; an image folder, --data DIR, fits any preset)`);
  }
  const { train, test } = makeSplits(ds, { trainSize: o.data.trainSize ?? 1000, testSize: o.data.testSize ?? 2000, seed: o.data.splitSeed });
  return { train, test, classes: ds.classes };
}

/**
 * The run folder (--out) and --save-model, before anything is written: a folder (or one that can
 * be created) on a writable file system, whose run files are regular files; an existing run needs
 * --resume or --force; --save-model is a new file (or --force), not a file the run reads or writes.
 */
function checkRunFolder(o: TrainOptions): PreparedRun['paths'] {
  const paths = fileSetOf(o.outDir);
  const out = `--out ${display(o.outDir)}`;
  checkOutputDir(o.outDir, '--out');
  for (const f of RUN_FILES) {
    const st = statOrUndefined(join(o.outDir, f));
    if (st && !st.isFile()) throw new Error(`${out}: ${f} is ${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO (named pipe)' : 'not a regular file'}; a run writes a file there: remove it or choose another --out`);
  }
  const hasRun = [paths.checkpoint, paths.adapters, paths.manifest].some((p) => existsSync(p));
  if (hasRun && !o.resume && !o.force) {
    throw new Error(`${out} already holds a run (${display(paths.checkpoint)}); continue it with --resume ${display(paths.checkpoint)}, replace it with --force, or choose another --out`);
  }
  if (o.saveModel !== undefined) {
    const same = (p: string | undefined) => p !== undefined && resolve(p) === resolve(o.saveModel!);
    if (same(o.backbone) || same(o.resume) || Object.values(paths).some(same)) throw new Error(`--save-model ${display(o.saveModel)} is a file the run reads or writes (--backbone, --resume or the run folder's); choose another path`);
    checkOutputFile(o.saveModel, '--save-model', { replace: o.force, replaceFlag: '--force' });
  }
  return paths;
}

const statOrUndefined = (p: string) => {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
};

/**
 * Trains a prepared run on the GPU: compiles the training step and the evaluator, repairs or
 * creates the run folder, runs the loop (saving a file set after every epoch), and writes the
 * report and result.json.
 */
export async function trainRun(ctx: GpuContext, prepared: PreparedRun): Promise<TrainResult> {
  const { o, spec, train, paths } = prepared;
  const log = (s: string) => o.quiet || console.log(s);
  const shapes = modelParamShapes(spec);
  const model = buildModel(spec);
  const start = await startingPoint(prepared, model.trainable, log);

  // Compile before creating the run folder: limits and compile errors leave no files behind.
  const { step, evaluator } = await compilePrograms(ctx, prepared, start, log);

  makeDir(o.outDir, '--out');
  const stale = removeStaleTemporaries(o.outDir);
  if (stale.length) log(`removed ${stale.length} temporary file(s) left by an interrupted write in ${display(o.outDir)}`);
  await repairFileSet(prepared, shapes, model.trainable);

  const stepsPerEpoch = Math.floor(sourceOf(train).count / spec.batch);
  const session: RunSession = { ctx, prepared, model, shapes, start, step, evaluator, stepsPerEpoch, log };
  const result = await runLoop(session);
  await finishRun(session, result);
  const out = runResult(session, result);
  await writeFileAtomic(join(o.outDir, 'result.json'), JSON.stringify({ options: optionsRecord(o), spec, result: out }, null, 2));
  step.destroy();
  evaluator.destroy();
  return out;
}

/** Where training starts (startingPoint). */
type StartingPoint = Awaited<ReturnType<typeof startingPoint>>;

/** What the phases of a run share once its programs are compiled. */
interface RunSession {
  readonly ctx: GpuContext;
  readonly prepared: PreparedRun;
  readonly model: BuiltModel;
  readonly shapes: Map<string, number[]>;
  readonly start: StartingPoint;
  readonly step: TrainStep;
  readonly evaluator: DeferredEvaluator;
  readonly stepsPerEpoch: number;
  readonly log: (s: string) => void;
}

/** How often the run will dispatch its training step and its evaluator (what a kernel search can pay back over). */
function expectedRuns({ o, spec, train, test }: PreparedRun): { train: number; eval: number } {
  const evaluations = o.evalEvery > 0 ? Math.ceil(o.epochs / o.evalEvery) : 1;
  return { train: o.epochs * sourceBatchCount(train, spec.batch, true), eval: evaluations * sourceBatchCount(test, o.evalBatch) };
}

/** The training step, compiled, and the evaluator, compiled at its first evaluation; a batch too large for the device is reported with the largest that fits. */
async function compilePrograms(ctx: GpuContext, prepared: PreparedRun, start: StartingPoint, log: (s: string) => void): Promise<{ step: TrainStep; evaluator: DeferredEvaluator }> {
  const { o, spec } = prepared;
  const t0 = performance.now();
  const runs = expectedRuns(prepared);
  const step = await TrainStep.create(ctx, spec, start.weights, { adamw: o.adamw, optimizerState: start.optimizerState, tune: o.tune, tuneExpectedRuns: runs.train }).catch((e: unknown) => {
    throw batchLimitError(e, spec.batch, '--batch', (b) => trainStepGraph({ ...spec, batch: b }, o.adamw).graph, ctx);
  });
  // The evaluator's code now (a batch too large is reported before training); its kernels at its first evaluation.
  const evalSpec = { ...spec, batch: o.evalBatch };
  const evalGraph = (b: number) => buildModel({ ...spec, batch: b, training: undefined }).graph;
  let evalPlan: CompiledPlan;
  try {
    evalPlan = compileGraph(evalGraph(o.evalBatch), { limits: deviceLimits(ctx) });
  } catch (e) {
    step.destroy();
    throw batchLimitError(e, o.evalBatch, '--eval-batch', evalGraph, ctx);
  }
  const evaluator = new DeferredEvaluator(() => Classifier.create(ctx, evalSpec, start.weights, { tune: o.tune, tuneExpectedRuns: runs.eval }).catch((e: unknown) => {
    throw batchLimitError(e, o.evalBatch, '--eval-batch', evalGraph, ctx);
  }), evalPlan);
  const plan = step.program.plan;
  if (step.program.tuneResult) log(describeTune(step.program.tuneResult));
  log(`training step: ${plan.kernels.length} kernels (${plan.uniqueKernels} distinct) in ${plan.steps.length} dispatches, ${(plan.flops / 1e9).toFixed(3)} GFLOP, compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s; inference: ${evalPlan.kernels.length} kernels, compiled at the first evaluation`);
  return { step, evaluator };
}

/** Writes one consistent file set: checkpoint, adapters, then the manifest naming the step both hold. */
async function saveFileSet({ prepared, step, model, shapes }: RunSession, loop: { step: number; history: EpochRecord[] }): Promise<void> {
  const { o, spec, paths } = prepared;
  const state = await step.state();
  const epochs = loop.history.length;
  const runState: RunState = { spec, epoch: epochs, step: loop.step, seed: o.seed, options: optionsRecord(o), history: loop.history };
  await saveWeights(paths.checkpoint, state, step.stateShapes, runStateMetadata(runState));
  await saveWeights(paths.adapters, new Map(model.trainable.map((n) => [n, state.get(n)!])), shapes, adaptersMeta(prepared, loop.step));
  await writeFileAtomic(paths.manifest, `${JSON.stringify({ format: 'fpet-webgpu/run', step: loop.step, epoch: epochs, checkpoint: 'checkpoint.safetensors', adapters: 'adapters.safetensors' }, null, 2)}\n`);
}

/** The training loop with console progress and a file set after every epoch; a failure says where to resume. */
async function runLoop(s: RunSession): Promise<LoopResult> {
  const { prepared, start, step, evaluator, log } = s;
  const { o, spec, train, test } = prepared;
  const progress = new RunProgress(o);
  let result: LoopResult;
  let lastStep = start.step;
  try {
    result = await trainLoop(step, { train, test }, evaluator, {
      epochs: o.epochs, batch: spec.batch,
      schedule: { lr: o.lr, minLr: o.minLr, warmupLr: o.warmupLr, warmupEpochs: o.warmupEpochs, epochs: o.epochs },
      scheduleMode: o.schedule, seed: o.seed, logEvery: o.logEvery, evalEvery: o.evalEvery,
      augmentShift: o.augmentShift, augmentAffine: o.augmentAffine, startStep: start.step, stopAfterEpochs: o.stopAfterEpochs,
    }, {
      shouldStop: o.shouldStop,
      onStep: (st) => {
        lastStep = st.step;
        progress.step(st);
        o.onStep?.(st.step);
      },
      onEvaluate: (done, total) => progress.evaluate(done, total),
      onEpoch: async (record, taken) => {
        progress.endEpoch();
        await saveFileSet(s, { step: taken, history: start.history });
        log(`epoch ${record.epoch}: loss ${record.loss.toFixed(4)}${record.testAccuracy !== undefined ? `, test accuracy ${(100 * record.testAccuracy).toFixed(2)}%` : ''}, ${record.trainImagesPerSec.toFixed(1)} img/s`);
      },
    }, start.history);
  } catch (e) {
    progress.endEpoch();
    step.destroy();
    evaluator.destroy();
    throw await trainingFailure(s, e, lastStep);
  }
  progress.endEpoch();
  return result;
}

/** The error a failed loop is reported with: a lost device or the loop's error, the step reached, and where to resume. */
async function trainingFailure({ ctx, prepared }: RunSession, e: unknown, lastStep: number): Promise<Error> {
  const { paths } = prepared;
  const lost = await Promise.race([ctx.lost.then((l) => l), new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
  const where = existsSync(paths.checkpoint) ? `the last checkpoint (${display(paths.checkpoint)}) is intact; continue with --resume ${display(paths.checkpoint)}` : 'no checkpoint was written yet';
  if (lost) return new Error(`the GPU device was lost (${lost.reason}: ${lost.message || 'no message'}) at step ${lastStep}; ${where}`);
  return new Error(`${(e as Error).message}\n(training stopped at step ${lastStep}; ${where})`);
}

/** After the loop: a file set at the step reached when stopped early, the report, and the whole model when asked. */
async function finishRun(s: RunSession, result: LoopResult): Promise<void> {
  const { prepared, shapes, start, step, stepsPerEpoch, log } = s;
  const { o, spec, paths } = prepared;
  if (result.stopped) {
    // Stopped mid-epoch (or during evaluation): save the step reached so that --resume continues there.
    await saveFileSet(s, { step: result.step, history: result.history });
    log(`stopped at step ${result.step} (epoch ${Math.floor(result.step / stepsPerEpoch) + 1}, step ${result.step % stepsPerEpoch} of ${stepsPerEpoch}): checkpoint ${display(paths.checkpoint)} (continue with --resume ${display(paths.checkpoint)})`);
  }
  await writeReport(o.outDir, result.history, stepsPerEpoch);
  if (o.saveModel && !result.stopped) {
    const trained = await step.trainableWeights();
    const full = new Map([...start.weights].filter(([k]) => shapes.has(k)).map(([k, v]) => [k, trained.get(k) ?? v]));
    await saveWeights(o.saveModel, full, shapes, { kind: 'model', spec: JSON.stringify({ ...spec, training: undefined }) });
    log(`wrote the trained model to ${display(o.saveModel)}`);
  }
}

/** The run's summary: accuracies, speeds, memory and the files written. */
function runResult({ prepared, model, shapes, step, evaluator }: RunSession, result: LoopResult): TrainResult {
  const { paths } = prepared;
  const plan = step.program.plan;
  const accs = result.history.map((h) => h.testAccuracy).filter((a): a is number => a !== undefined);
  return {
    history: result.history,
    finalAccuracy: accs[accs.length - 1] ?? NaN,
    bestAccuracy: accs.length ? Math.max(...accs) : NaN,
    trainImagesPerSec: result.trainImages / Math.max(result.trainSeconds, 1e-9),
    inferImagesPerSec: result.evalImages / Math.max(result.evalSeconds, 1e-9),
    trainPeakBytes: step.program.memoryBytes,
    trainWorkBytes: plan.arenaBytes.work,
    inferPeakBytes: evaluator.memoryBytes,
    trainableParams: model.trainable.reduce((s, n) => s + shapes.get(n)!.reduce((a, b) => a * b, 1), 0),
    trainKernels: plan.kernels.length,
    checkpoint: paths.checkpoint,
    adapters: paths.adapters,
    interrupted: result.stopped,
    step: result.step,
  };
}

/**
 * Where training starts: the backbone (file or random) with fresh adapters and head, or, when
 * resuming, the trainable part, AdamW state, step and history from the checkpoint.
 */
async function startingPoint(prepared: PreparedRun, trainable: readonly string[], log: (s: string) => void) {
  const { o, spec } = prepared;
  const shapes = modelParamShapes(spec);
  const backbone = o.backbone ? (await loadBackbone(o.backbone, spec.vit, o.nameMap)).weights : undefined;
  if (backbone && o.checkWeights !== false) checkWeights(backbone, o.backbone!);
  const weights = initialWeights(spec, o.seed, backbone);
  const { resumeState, resumeWeights } = prepared;
  if (!o.resume || !resumeState || !resumeWeights) return { weights, step: 0, history: [] as EpochRecord[], optimizerState: undefined };
  for (const n of trainable) weights.set(n, resumeWeights.get(n)!);
  log(`resuming ${display(o.resume)}: ${resumeState.step} steps done`);
  return { weights, step: resumeState.step, history: resumeState.history.map((h) => ({ ...h })) as EpochRecord[], optimizerState: resumeWeights };
}

/** The console progress of a run: one bar per epoch (images, loss, learning rate), one per evaluation. */
class RunProgress {
  private bar: Progress | undefined;
  private barEpoch = -1;
  private evalBar: Progress | undefined;

  constructor(private readonly o: TrainOptions) {}

  step(s: { epoch: number; stepsPerEpoch: number; stepInEpoch: number; loss?: number; lr: number }): void {
    if (this.o.quiet) return;
    const batch = this.o.spec.batch;
    if (!this.bar || this.barEpoch !== s.epoch) {
      this.bar?.done();
      this.barEpoch = s.epoch;
      this.bar = new Progress({ label: `epoch ${s.epoch + 1}/${this.o.epochs}`, total: (s.stepsPerEpoch - s.stepInEpoch + 1) * batch, unit: 'img' });
    }
    this.bar.tick(batch, s.loss !== undefined ? `loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(2)}` : undefined);
  }

  evaluate(done: number, total: number): void {
    if (this.o.quiet) return;
    if (!this.evalBar || done === 0) {
      this.bar?.done();
      this.bar = undefined;
      this.evalBar = new Progress({ label: 'evaluate', total, unit: 'img' });
    }
    this.evalBar.tick(done - this.evalBar.value);
    if (done >= total) {
      this.evalBar.done();
      this.evalBar = undefined;
    }
  }

  endEpoch(): void {
    this.bar?.done();
    this.bar = undefined;
    this.evalBar?.done();
    this.evalBar = undefined;
  }
}

/** The options a checkpoint records (resume compares them: src/fpet/train/resume.ts). */
export function optionsRecord(o: TrainOptions): Record<string, unknown> {
  const { spec: _s, nameMap, shouldStop: _st, onStep: _os, ...rest } = o;
  return { ...rest, data: recordedData(o.data), backbone: o.backbone ?? 'random', nameMap: nameMap ? [...new Set(nameMap.map((r) => r.source.replace(/:\d+$/, '')))] : undefined, nameMapRules: recordedNameMap(nameMap) };
}

const adaptersMeta = ({ spec, o, classes, preprocess }: PreparedRun, step: number): Record<string, string> => {
  const f = o.data.folder;
  const data = f ? { classes, preprocess, split: { valSplit: f.valSplit, splitSeed: o.data.splitSeed } } : {};
  return adaptersMetadata(spec, { seed: o.seed, backbone: o.backbone ?? 'random', step, ...data });
};

/**
 * A kill between writing the checkpoint and the adapters (or the manifest) leaves them at
 * different steps: the adapters are the checkpoint's trainable tensors, so rewrite them from it.
 */
async function repairFileSet(prepared: PreparedRun, shapes: Map<string, number[]>, trainable: readonly string[]): Promise<void> {
  const { paths, o } = prepared;
  if (!existsSync(paths.checkpoint)) return;
  const ck = await loadWeights(paths.checkpoint, new Map(trainable.map((n) => [n, shapes.get(n)!])), { allowExtra: true }).catch(() => undefined);
  if (!ck) return; // --force over a checkpoint of another model: it is replaced at the first save
  let state: RunState;
  try {
    state = parseRunState(ck.metadata, paths.checkpoint);
  } catch {
    return; // --force over an unreadable run: it is replaced at the first save
  }
  const manifest = readRunManifest(paths.manifest);
  const adaptersStep = existsSync(paths.adapters) ? Number((await loadWeights(paths.adapters, new Map(), { allowExtra: true, headerOnly: true })).metadata.step ?? NaN) : NaN;
  if (manifest?.step === state.step && adaptersStep === state.step) return;
  if (trainable.every((n) => ck.weights.has(n))) {
    await saveWeights(paths.adapters, new Map(trainable.map((n) => [n, ck.weights.get(n)!])), shapes, adaptersMeta(prepared, state.step));
    await writeFileAtomic(paths.manifest, `${JSON.stringify({ format: 'fpet-webgpu/run', step: state.step, epoch: state.epoch, checkpoint: 'checkpoint.safetensors', adapters: 'adapters.safetensors' }, null, 2)}\n`);
    if (!o.quiet) console.log(`repaired ${display(paths.adapters)}: it was at step ${Number.isNaN(adaptersStep) ? '?' : adaptersStep}, the checkpoint at step ${state.step}`);
  }
}

async function writeReport(dir: string, history: readonly EpochRecord[], stepsPerEpoch: number): Promise<void> {
  const stepLosses = history.flatMap((h) => h.steps ?? []);
  const svg = lineChart({
    title: 'Training loss per step and test accuracy per epoch',
    xLabel: 'epoch',
    yLabel: 'loss / accuracy',
    series: [
      ...(stepLosses.length ? [{ name: 'train loss (per step)', points: stepLosses.map(([s, l]) => [s / stepsPerEpoch, l] as const) }] : []),
      { name: 'train loss (epoch mean)', points: history.map((h) => [h.epoch, h.loss] as const) },
      { name: 'test accuracy', points: history.filter((h) => h.testAccuracy !== undefined).map((h) => [h.epoch, h.testAccuracy!] as const) },
    ],
  });
  await writeFileAtomic(join(dir, 'curves.svg'), svg);
}
