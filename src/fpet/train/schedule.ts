// Warm-up + cosine learning rate (timm CosineLRScheduler as FPET runs it; docs/method.md, 5).

/** A warm-up + cosine learning-rate schedule (timm's CosineLRScheduler); lengths in epochs. */
export interface ScheduleConfig {
  readonly lr: number;
  readonly warmupLr: number;
  readonly minLr: number;
  readonly warmupEpochs: number;
  readonly epochs: number;
}

/** timm's f(t): linear warm-up from warmupLr over warmupEpochs, then cosine from lr to minLr over `epochs` (t not shifted). */
export function cosineLr(c: ScheduleConfig, t: number): number {
  if (t < c.warmupEpochs) return c.warmupLr + (t * (c.lr - c.warmupLr)) / c.warmupEpochs;
  return c.minLr + 0.5 * (c.lr - c.minLr) * (1 + Math.cos((Math.PI * t) / c.epochs));
}

/**
 * LR used during `epoch` (0-based). 'epoch' mode is the reference exactly: epoch 0 runs at the
 * constructor's warmupLr and epoch e ≥ 1 at f(e − 1) (the scheduler is stepped after each epoch).
 * 'step' mode evaluates the same curve at fractional epochs, updating every step (no wasted
 * epoch at the initial LR on short runs).
 */
export function learningRate(c: ScheduleConfig, mode: 'epoch' | 'step', epoch: number, stepInEpoch = 0, stepsPerEpoch = 1): number {
  if (mode === 'epoch') return epoch === 0 ? c.warmupLr : cosineLr(c, epoch - 1);
  return cosineLr(c, epoch + stepInEpoch / stepsPerEpoch);
}
