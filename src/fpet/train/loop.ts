// The training loop: epochs of shuffled batches through a compiled TrainStep, the learning-rate
// schedule, periodic loss readback, evaluation with a Classifier, and callbacks. It knows nothing
// of files, processes or signals (the CLI and the web page own those), so the same loop runs in
// Node, Deno and browsers. Everything random is keyed by (seed, epoch, step): a run stopped and
// resumed at any step boundary continues exactly as an uninterrupted one.

import { affineAugment, shiftAugment, type AffineAugment, type Subset } from '../data/dataset.ts';
import { isBatchSource, sourceBatchCount, sourceOf, type BatchSource } from '../data/batch-source.ts';
import type { Evaluator } from './inference.ts';
import { learningRate, type ScheduleConfig } from './schedule.ts';
import type { TrainStep } from './train-step.ts';

/** How trainLoop trains: epochs, batch size, learning-rate schedule, seed, logging, evaluation and augmentation. */
export interface LoopOptions {
  readonly epochs: number;
  readonly batch: number;
  readonly schedule: ScheduleConfig;
  /** 'step': LR updated every step; 'epoch': per epoch exactly as the reference (timm). */
  readonly scheduleMode: 'epoch' | 'step';
  readonly seed: number;
  /** Read the loss back every this many steps (each readback waits for the GPU). */
  readonly logEvery: number;
  /** Evaluate every this many epochs (and after the last); 0: never. */
  readonly evalEvery: number;
  /** Random shifts of up to this many pixels (0: no augmentation). */
  readonly augmentShift?: number;
  /** Random zoom and rotation as well (the shifts become sub-pixel translations). */
  readonly augmentAffine?: AffineAugment;
  /** Optimizer steps already taken (a resumed run). */
  readonly startStep?: number;
  /** Stop (at an epoch boundary) after this many epochs in this call, for tests of resuming. */
  readonly stopAfterEpochs?: number;
}

/** Progress after one optimizer step; `epoch` counts from 0, `stepInEpoch` from 1. */
export interface StepInfo {
  /** Optimizer steps taken, this one included. */
  readonly step: number;
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly lr: number;
  /** The loss of this step when it was read back (every logEvery steps and at the epoch's end). */
  readonly loss?: number;
  readonly images: number;
}

/** What one epoch did (`epoch` counts from 1); `testAccuracy` in [0, 1] when it was evaluated. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  /** Mean of the losses read back during the epoch. */
  loss: number;
  testAccuracy?: number;
  trainImagesPerSec: number;
  seconds: number;
  /** Every loss read back during the epoch, as [step, loss]. */
  steps?: [number, number][];
}

/** Hooks into trainLoop; those returning a promise are awaited before the loop goes on. */
export interface LoopCallbacks {
  /** After every optimizer step. */
  onStep?(info: StepInfo): void | Promise<void>;
  /** After each epoch (and its evaluation). */
  onEpoch?(record: EpochRecord, step: number): void | Promise<void>;
  /** Called with progress while evaluating. */
  onEvaluate?(done: number, total: number): void;
  /** Checked before every step and between evaluation batches: true stops at that boundary. */
  shouldStop?(): boolean;
}

/** The outcome of trainLoop: the epoch history (including earlier epochs passed in) and totals. */
export interface LoopResult {
  readonly history: EpochRecord[];
  /** Optimizer steps taken in all (including those before a resume). */
  readonly step: number;
  /** Epochs completed. */
  readonly epochs: number;
  /** Stopped by shouldStop before the end. */
  readonly stopped: boolean;
  readonly trainSeconds: number;
  readonly trainImages: number;
  readonly evalSeconds: number;
  readonly evalImages: number;
}

/** Raised by trainLoop when a loss read back is NaN or infinite. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/**
 * Runs the loop from `startStep` to the last epoch (or until shouldStop / stopAfterEpochs). The
 * data are in-memory subsets (augmented here with shifts or zoom and rotation) or batch sources
 * such as image folders (augmented by the source: random crop and flip, decoded ahead of the step).
 */
export async function trainLoop(step: TrainStep, data: { train: Subset | BatchSource; test?: Subset | BatchSource }, evaluator: Evaluator | undefined, o: LoopOptions, cb: LoopCallbacks = {}, history: EpochRecord[] = []): Promise<LoopResult> {
  const stepsPerEpoch = sourceBatchCount(data.train, o.batch, true);
  const train = sourceOf(data.train);
  if (stepsPerEpoch < 1) throw new Error(`batch ${o.batch} is larger than the ${train.count} training images`);
  let taken = o.startStep ?? 0;
  // The step count is the source of truth: a checkpoint written mid-epoch resumes at the very
  // next batch of the same deterministic epoch order.
  const startEpoch = Math.floor(taken / stepsPerEpoch);
  const stopAt = Math.min(o.epochs, startEpoch + (o.stopAfterEpochs ?? Infinity));
  // In-memory subsets are augmented here (keyed by seed, epoch and batch, as before); sources augment themselves.
  const inMemory = !isBatchSource(data.train);
  let stopped = false, trainSeconds = 0, trainImages = 0, evalSeconds = 0, evalImages = 0;
  let epoch = startEpoch;
  for (; epoch < stopAt; epoch++) {
    const t0 = performance.now();
    const skip = taken - epoch * stepsPerEpoch;
    const losses: [number, number][] = [];
    let i = Math.max(0, skip), lr = 0;
    for await (const batch of train.batches(o.batch, { shuffle: true, seed: o.seed, epoch, dropLast: true, skip: i, augment: true })) {
      if (cb.shouldStop?.()) {
        stopped = true;
        break;
      }
      if (inMemory && o.augmentAffine) affineAugment(batch.images, train.channels, train.imageSize, o.augmentShift ?? 0, o.augmentAffine, o.seed, epoch, i);
      else if (inMemory && o.augmentShift) shiftAugment(batch.images, train.channels, train.imageSize, o.augmentShift, o.seed, epoch, i);
      taken++;
      lr = learningRate(o.schedule, o.scheduleMode, epoch, i, stepsPerEpoch);
      step.run(batch, lr, taken, o.seed);
      i++;
      let loss: number | undefined;
      if (i % o.logEvery === 0 || i === stepsPerEpoch) {
        loss = await step.loss();
        if (!Number.isFinite(loss)) {
          throw new NonFiniteLossError(`the loss became ${loss} at step ${taken} (epoch ${epoch + 1}): lower the learning rate (--lr), or check the backbone's weights`);
        }
        losses.push([taken, loss]);
      }
      await cb.onStep?.({ step: taken, epoch, stepInEpoch: i, stepsPerEpoch, lr, loss, images: (i - skip) * o.batch });
    }
    const seconds = (performance.now() - t0) / 1000;
    trainSeconds += seconds;
    trainImages += (i - Math.max(skip, 0)) * o.batch;
    if (stopped) break;
    const record: EpochRecord = {
      epoch: epoch + 1, lr,
      loss: losses.reduce((a, [, l]) => a + l, 0) / Math.max(1, losses.length),
      trainImagesPerSec: ((i - skip) * o.batch) / Math.max(seconds, 1e-9), seconds, steps: losses,
    };
    const last = epoch + 1 === o.epochs;
    if (evaluator && data.test && o.evalEvery > 0 && ((epoch + 1) % o.evalEvery === 0 || last)) {
      evaluator.setWeights(await step.trainableWeights());
      const ev = await evaluator.evaluate(data.test, { onBatch: cb.onEvaluate, shouldStop: cb.shouldStop });
      evalSeconds += ev.seconds;
      evalImages += ev.images;
      if (ev.stopped) stopped = true;
      else record.testAccuracy = ev.accuracy;
    }
    history.push(record);
    await cb.onEpoch?.(record, taken);
    if (stopped) {
      epoch++;
      break;
    }
  }
  return { history, step: taken, epochs: Math.floor(taken / stepsPerEpoch), stopped, trainSeconds, trainImages, evalSeconds, evalImages };
}
