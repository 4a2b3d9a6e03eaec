// Training and evaluation on WebGPU. One training step is one compiled plan (forward, backward,
// AdamW) submitted as one command buffer; parameters and optimizer state never leave the GPU
// during a step; the loss is read back every `logEvery` steps only. Dropout and DropPath masks
// come from the counter-based `rand` op keyed by (seed, step), and batches by (seed, epoch), so a
// run is reproducible and a resumed run continues exactly as an uninterrupted one.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gradients } from '../ir/autodiff.ts';
import { compileGraph } from '../../codegen/compile.ts';
import { batchCount, batches, loadDataset, makeSplits, type DatasetName, type Subset } from '../data/mnist.ts';
import { buildModel, initialWeights, modelParamShapes, type ModelSpec } from '../models/model.ts';
import type { GpuContext } from '../runtime/device.ts';
import { Program, deviceLimits } from '../runtime/program.ts';
import { Progress } from '../util/progress.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { lineChart } from '../util/svg.ts';
import { ADAMW_DEFAULTS, adamHyper, adamM, adamV, withAdamW, type AdamWConfig } from './optimizer.ts';
import { learningRate, type ScheduleConfig } from './schedule.ts';
import { loadBackbone, loadWeights, parseRunState, runStateMetadata, saveWeights, type Weights } from './checkpoint.ts';

export interface DataOptions {
  readonly dataset: DatasetName;
  readonly trainSize: number;
  readonly testSize: number;
  readonly splitSeed: number;
}

export interface TrainOptions {
  /** Model to train; `training` (dropout, DropPath) is set by the trainer from the options below. */
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
  readonly seed: number;
  readonly evalBatch: number;
  /** Evaluate every this many epochs (and after the last). */
  readonly evalEvery: number;
  /** Read the loss back every this many steps. */
  readonly logEvery: number;
  /** Safetensors backbone in timm names (else random weights). */
  readonly backbone?: string;
  readonly outDir: string;
  /** Continue from this checkpoint. */
  readonly resume?: string;
  /** Also write the whole trained model (backbone + modules, no optimizer state) here. */
  readonly saveModel?: string;
  /** Stop after this many epochs in this invocation (for tests of resuming). */
  readonly stopAfterEpochs?: number;
  readonly quiet?: boolean;
}

export const TRAIN_DEFAULTS = {
  lr: 1e-3, minLr: 1e-5, warmupLr: 1e-6, schedule: 'step' as const, adamw: ADAMW_DEFAULTS,
  dropout: 0.1, dropPath: 0.1, seed: 0, evalBatch: 100, evalEvery: 1, logEvery: 5,
};

export interface EpochRecord {
  epoch: number;
  lr: number;
  /** Mean of the losses read back during the epoch. */
  loss: number;
  testAccuracy?: number;
  trainImagesPerSec: number;
  seconds: number;
}

export interface TrainResult {
  readonly history: EpochRecord[];
  readonly finalAccuracy: number;
  readonly bestAccuracy: number;
  readonly trainImagesPerSec: number;
  readonly inferImagesPerSec: number;
  /** GPU bytes of the training plan (parameters + optimizer state + inputs + planned work arena). */
  readonly trainPeakBytes: number;
  readonly trainWorkBytes: number;
  readonly inferPeakBytes: number;
  readonly trainableParams: number;
  readonly trainKernels: number;
  readonly checkpoint: string;
  readonly adapters: string;
  readonly interrupted: boolean;
}

/** Trainable + optimizer state of the training plan, in a GPU readback. */
async function readState(exe: Program, names: readonly string[]): Promise<Weights> {
  const out = await exe.read(names);
  return new Map(Object.entries(out).map(([k, v]) => [k, v as Float32Array]));
}

export async function train(ctx: GpuContext, o: TrainOptions): Promise<TrainResult> {
  const log = (s: string) => o.quiet || console.log(s);
  mkdirSync(o.outDir, { recursive: true });
  const ds = loadDataset(o.data.dataset);
  const splits = makeSplits(ds, { trainSize: o.data.trainSize, testSize: o.data.testSize, seed: o.data.splitSeed });
  if (splits.train.indices.length < o.spec.batch) throw new Error(`batch ${o.spec.batch} is larger than the ${splits.train.indices.length} training images`);
  if (o.spec.vit.imageSize !== ds.imageSize || o.spec.vit.inChannels !== 1) {
    throw new Error(`the model expects ${o.spec.vit.inChannels}×${o.spec.vit.imageSize}×${o.spec.vit.imageSize} images but ${ds.name} has 1×${ds.imageSize}×${ds.imageSize} (use --preset vit-mnist)`);
  }
  const spec: ModelSpec = { ...o.spec, vit: { ...o.spec.vit, numClasses: ds.classes.length }, training: { dropout: o.dropout, dropPath: o.dropPath } };
  const shapes = modelParamShapes(spec);

  // Weights: backbone (file or random), fresh adapters and head; or everything from a checkpoint.
  let weights: Weights;
  let startEpoch = 0, step = 0;
  let history: EpochRecord[] = [];
  let optimizerState: Weights | undefined;
  const backbone = o.backbone ? (await loadBackbone(o.backbone, spec.vit)).weights : undefined;
  weights = initialWeights(spec, o.seed, backbone);
  const model = buildModel(spec);
  const optimizerShapes = new Map<string, number[]>();
  for (const n of model.trainable) {
    optimizerShapes.set(adamM(n), shapes.get(n)!);
    optimizerShapes.set(adamV(n), shapes.get(n)!);
  }
  if (o.resume) {
    const expected = new Map([...model.trainable.map((n) => [n, shapes.get(n)!] as const), ...optimizerShapes]);
    const ck = await loadWeights(o.resume, expected);
    const state = parseRunState(ck.metadata, o.resume);
    if (JSON.stringify(state.spec.vit) !== JSON.stringify(spec.vit) || JSON.stringify(state.spec.pet) !== JSON.stringify(spec.pet) || JSON.stringify(state.spec.merge ?? null) !== JSON.stringify(spec.merge ?? null)) {
      throw new Error(`${o.resume} was trained with a different model (${JSON.stringify({ pet: state.spec.pet, merge: state.spec.merge })}); resume with the same options`);
    }
    for (const n of model.trainable) weights.set(n, ck.weights.get(n)!);
    optimizerState = new Map([...optimizerShapes.keys()].map((k) => [k, ck.weights.get(k)!]));
    step = state.step;
    history = state.history as EpochRecord[];
    log(`resuming ${o.resume}: ${step} steps done`);
  }

  // Compile the training step (forward + backward + AdamW) and the inference plan.
  const limits = deviceLimits(ctx);
  const withGrads = gradients(model.graph, { loss: 'loss' });
  const { graph: stepGraph, writeBack } = withAdamW(withGrads, model.trainable, o.adamw);
  const trainPlan = compileGraph(stepGraph, { limits });
  const evalModel = buildModel({ ...spec, batch: o.evalBatch, training: undefined });
  const evalPlan = compileGraph(evalModel.graph, { limits });
  log(`training step: ${trainPlan.kernels.length} kernels (${trainPlan.uniqueKernels} distinct), ${(trainPlan.flops / 1e9).toFixed(3)} GFLOP; inference: ${evalPlan.kernels.length} kernels`);
  const trainExe = await Program.create(ctx, trainPlan, { writeBack });
  const usesSeed = stepGraph.inputs.some((n) => n.attrs.name === 'seed');
  const evalExe = await Program.create(ctx, evalPlan);

  const paramFeeds: Record<string, Float32Array> = {};
  for (const p of stepGraph.params) {
    const name = p.attrs.name;
    paramFeeds[name] = weights.get(name) ?? optimizerState?.get(name) ?? new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
  }
  trainExe.write(paramFeeds);
  evalExe.write(Object.fromEntries(evalModel.graph.params.map((p) => [p.attrs.name, weights.get(p.attrs.name)!])));

  const stepsPerEpoch = batchCount(splits.train, spec.batch, true);
  // The step count is the source of truth: a checkpoint written mid-epoch (Ctrl-C) resumes at
  // the very next batch of the same deterministic epoch order.
  startEpoch = Math.floor(step / stepsPerEpoch);
  const schedule: ScheduleConfig = { lr: o.lr, minLr: o.minLr, warmupLr: o.warmupLr, warmupEpochs: o.warmupEpochs, epochs: o.epochs };
  const stateNames = [...model.trainable, ...optimizerShapes.keys()];
  const checkpointPath = join(o.outDir, 'checkpoint.safetensors');
  const adaptersPath = join(o.outDir, 'adapters.safetensors');

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupt: finishing this step and writing the checkpoint (Ctrl-C again to abort)');
  };
  process.on('SIGINT', onSigint);

  const saveCheckpoint = async (epochsDone: number) => {
    const state = await readState(trainExe, stateNames);
    const allShapes = new Map([...shapes, ...optimizerShapes]);
    await saveWeights(checkpointPath, state, allShapes, runStateMetadata({ spec, epoch: epochsDone, step, seed: o.seed, options: { ...o, spec: undefined }, history }));
    const trainableOnly = new Map(model.trainable.map((n) => [n, state.get(n)!]));
    await saveWeights(adaptersPath, trainableOnly, shapes, { kind: 'adapters', spec: JSON.stringify(spec), seed: String(o.seed), backbone: o.backbone ?? 'random' });
    return state;
  };

  let trainSeconds = 0, trainImages = 0, inferSeconds = 0, inferImages = 0;
  const stopAt = Math.min(o.epochs, startEpoch + (o.stopAfterEpochs ?? Infinity));
  try {
    for (let epoch = startEpoch; epoch < stopAt && !interrupted; epoch++) {
      const bar = o.quiet ? undefined : new Progress({ label: `epoch ${epoch + 1}/${o.epochs}`, total: stepsPerEpoch * spec.batch, unit: 'img' });
      const t0 = performance.now();
      const losses: number[] = [];
      const skip = step - epoch * stepsPerEpoch;
      let i = 0;
      let lr = 0;
      for (const batch of batches(splits.train, spec.batch, { shuffle: true, seed: o.seed, epoch, dropLast: true })) {
        if (interrupted) break;
        if (i < skip) {
          i++;
          continue;
        }
        step++;
        lr = learningRate(schedule, o.schedule, epoch, i, stepsPerEpoch);
        trainExe.write({ images: batch.images, onehot: batch.oneHot, hyper: adamHyper(lr, step, o.adamw) });
        // Dropout and DropPath masks are keyed by (seed, step); a model without them has no seed input.
        if (usesSeed) trainExe.write({ seed: [o.seed, step] });
        trainExe.run();
        i++;
        if (i % o.logEvery === 0 || i === stepsPerEpoch) {
          const l = (await trainExe.read(['loss'])).loss![0]!;
          if (!Number.isFinite(l)) throw new Error(`loss became ${l} at step ${step} (epoch ${epoch + 1}); lower the learning rate`);
          losses.push(l);
          bar?.tick((i - skip) * spec.batch - bar.value, `loss ${l.toFixed(4)} lr ${lr.toExponential(2)}`);
        }
      }
      await ctx.device.queue.onSubmittedWorkDone();
      const seconds = (performance.now() - t0) / 1000;
      bar?.done();
      trainSeconds += seconds;
      trainImages += (i - skip) * spec.batch;
      const record: EpochRecord = { epoch: epoch + 1, lr, loss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length), trainImagesPerSec: ((i - skip) * spec.batch) / seconds, seconds };
      if (interrupted) {
        await saveCheckpoint(epoch);
        log(`interrupted at step ${step}: checkpoint ${checkpointPath} (resume with --resume ${checkpointPath})`);
        break;
      }
      const state = await readState(trainExe, model.trainable);
      if ((epoch + 1) % o.evalEvery === 0 || epoch + 1 === o.epochs) {
        evalExe.write(Object.fromEntries(evalModel.graph.params.filter((p) => state.has(p.attrs.name)).map((p) => [p.attrs.name, state.get(p.attrs.name)!])));
        const ev = await evaluateExe(evalExe, splits.test, o.evalBatch, o.quiet);
        record.testAccuracy = ev.accuracy;
        inferSeconds += ev.seconds;
        inferImages += ev.images;
      }
      {
        history.push(record);
        await saveCheckpoint(epoch + 1);
        log(`epoch ${epoch + 1}: loss ${record.loss.toFixed(4)}${record.testAccuracy !== undefined ? `, test accuracy ${(100 * record.testAccuracy).toFixed(2)}%` : ''}, ${record.trainImagesPerSec.toFixed(1)} img/s`);
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  await writeReport(o.outDir, history);
  if (o.saveModel && !interrupted) {
    const trained = await readState(trainExe, model.trainable);
    const full = new Map([...weights].filter(([k]) => shapes.has(k)).map(([k, v]) => [k, trained.get(k) ?? v]));
    await saveWeights(o.saveModel, full, shapes, { kind: 'model', spec: JSON.stringify({ ...spec, training: undefined }) });
    log(`wrote the trained model to ${o.saveModel}`);
  }
  const accs = history.map((h) => h.testAccuracy).filter((a): a is number => a !== undefined);
  const result: TrainResult = {
    history,
    finalAccuracy: accs[accs.length - 1] ?? NaN,
    bestAccuracy: accs.length ? Math.max(...accs) : NaN,
    trainImagesPerSec: trainImages / Math.max(trainSeconds, 1e-9),
    inferImagesPerSec: inferImages / Math.max(inferSeconds, 1e-9),
    trainPeakBytes: trainExe.memoryBytes,
    trainWorkBytes: trainPlan.arenaBytes.work,
    inferPeakBytes: evalExe.memoryBytes,
    trainableParams: model.trainable.reduce((s, n) => s + shapes.get(n)!.reduce((a, b) => a * b, 1), 0),
    trainKernels: trainPlan.kernels.length,
    checkpoint: checkpointPath,
    adapters: adaptersPath,
    interrupted,
  };
  await writeFileAtomic(join(o.outDir, 'result.json'), JSON.stringify({ options: { ...o }, spec, result: { ...result, history } }, null, 2));
  trainExe.destroy();
  evalExe.destroy();
  return result;
}

export interface EvalResult {
  readonly accuracy: number;
  readonly images: number;
  readonly seconds: number;
  readonly predictions: Int32Array;
}

/** Runs an inference plan over a subset (static batch: the last batch is padded and its padding ignored). */
export async function evaluateExe(exe: Program, subset: Subset, batch: number, quiet = false): Promise<EvalResult> {
  const n = subset.indices.length;
  const classes = subset.dataset.classes.length;
  const predictions = new Int32Array(n);
  let correct = 0, at = 0;
  const bar = quiet ? undefined : new Progress({ label: 'evaluate', total: n, unit: 'img' });
  const t0 = performance.now();
  for (const b of batches(subset, batch)) {
    const images = new Float32Array(batch * b.images.length / b.size);
    images.set(b.images);
    exe.write({ images, onehot: new Float32Array(batch * classes) });
    exe.run();
    const logits = (await exe.read(['logits'])).logits!;
    for (let r = 0; r < b.size; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
      predictions[at++] = best;
      if (best === b.labels[r]) correct++;
    }
    bar?.tick(b.size);
  }
  bar?.done();
  return { accuracy: correct / n, images: n, seconds: (performance.now() - t0) / 1000, predictions };
}

async function writeReport(dir: string, history: readonly EpochRecord[]): Promise<void> {
  const svg = lineChart({
    title: 'Training loss and test accuracy per epoch',
    xLabel: 'epoch',
    yLabel: 'loss / accuracy',
    series: [
      { name: 'train loss', points: history.map((h) => [h.epoch, h.loss] as const) },
      { name: 'test accuracy', points: history.filter((h) => h.testAccuracy !== undefined).map((h) => [h.epoch, h.testAccuracy!] as const) },
    ],
  });
  await writeFileAtomic(join(dir, 'curves.svg'), svg);
}

